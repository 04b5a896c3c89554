using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Fse.Server;

/// <summary>
/// Ties the engine to the host's life: admission stops as soon as shutdown begins (SIGTERM), running requests get the
/// grace period to finish, the rest are aborted, and the engine (and the model, when owned) is disposed.
/// </summary>
internal sealed class EngineLifetime(ServerState state, bool ownsModel, IHostApplicationLifetime lifetime, ILogger logger) : IHostedService
{
    private CancellationTokenRegistration _onStopping;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _onStopping = lifetime.ApplicationStopping.Register(() =>
        {
            state.Engine.StopAdmission();
            var s = state.Engine.Stats;
            logger.LogInformation("Shutting down: admission stopped; {Running} running and {Waiting} waiting requests get {Grace:0.#} s to finish.",
                s.Running, s.Waiting, state.Options.ShutdownTimeout.TotalSeconds);
        });
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        int aborted = await state.Engine.DrainAsync(state.Options.ShutdownTimeout, cancellationToken).ConfigureAwait(false);
        if (aborted > 0) logger.LogWarning("Aborted {Count} requests still running after the grace period.", aborted);
        // Give the handlers of aborted requests a moment to write their last event before Kestrel closes connections.
        if (aborted > 0) await Task.Delay(200, CancellationToken.None).ConfigureAwait(false);
        _onStopping.Dispose();
        state.Engine.Dispose();
        if (ownsModel) state.Model.Dispose();
    }
}
