using System.Collections.Concurrent;
using Fse.Bench;
using Fse.Client;
using Fse.Runtime;

namespace Fse.Cmdlets.Internal;

/// <summary>
/// Invoke-FseBenchmark -Model's launcher: one fse-server child process per FSE mode, started and stopped like
/// Start-FseServer and Stop-FseServer do it (registered meanwhile, so a session that ends stops it too).
/// </summary>
internal sealed class ServerBenchLauncher(string bindAddress = "127.0.0.1", TimeSpan? stopTimeout = null) : IServerLauncher
{
    private readonly ConcurrentDictionary<LaunchedServer, FseServer> _started = new();

    public Task<LaunchedServer> StartAsync(string model, string fse, string? device, ServerLaunchOptions options, CancellationToken ct) => Task.Run(() =>
    {
        var spec = new LocalServerSpec
        {
            Model = model,
            Fse = Enum.Parse<FseMode>(fse, ignoreCase: true),
            Device = device ?? "auto",
            BindAddress = bindAddress,
            MaxModelLen = options.MaxModelLen,
            ExtraArguments = options.ExtraArguments,
            StartTimeout = options.StartTimeout,
        };
        var server = ServerLauncher.StartLocal(spec, null, ct);
        var launched = new LaunchedServer(OpenAiEndpoint.Parse(server.Url, server.ApiKey), server.Fse ?? fse, server.Model ?? model, server.Device);
        _started[launched] = server;
        return launched;
    }, ct);

    public Task StopAsync(LaunchedServer server, CancellationToken ct) => Task.Run(() =>
    {
        if (_started.TryRemove(server, out var handle)) ServerLauncher.Stop(handle, stopTimeout ?? TimeSpan.FromSeconds(30));
    }, ct);
}
