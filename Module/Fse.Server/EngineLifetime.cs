using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Fse.Server;

/// <summary>
/// Ties the engine to the host's life. As soon as shutdown begins (SIGTERM), admission stops and running requests get
/// the grace period to finish; the rest are aborted (their streams end with an error event), so Kestrel's own wait for
/// open requests ends with them. Then the engine (and the model, when owned) is disposed.
/// </summary>
internal sealed class EngineLifetime(ServerState state, bool ownsModel, IHostApplicationLifetime lifetime, ILogger logger) : IHostedService
{
    private CancellationTokenRegistration _onStopping;
    private Task? _drain;
    private readonly object _gate = new();

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _onStopping = lifetime.ApplicationStopping.Register(() => Drain());
        return Task.CompletedTask;
    }

    private Task Drain()
    {
        lock (_gate)
        {
            if (_drain is not null) return _drain;
            state.Engine.StopAdmission();
            var s = state.Engine.Stats;
            logger.LogInformation("Shutting down: admission stopped; {Running} running and {Waiting} waiting requests get {Grace:0.#} s to finish.",
                s.Running, s.Waiting, state.Options.ShutdownTimeout.TotalSeconds);
            return _drain = Task.Run(async () =>
            {
                int aborted = await state.Engine.DrainAsync(state.Options.ShutdownTimeout).ConfigureAwait(false);
                if (aborted > 0) logger.LogWarning("Aborted {Count} requests still running after the grace period.", aborted);
            });
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await Drain().ConfigureAwait(false);
        _onStopping.Dispose();
        state.Engine.Dispose();
        if (ownsModel) state.Model.Dispose();
    }
}
