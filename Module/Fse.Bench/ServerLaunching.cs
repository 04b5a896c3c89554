using System.Runtime.CompilerServices;
using Fse.Client;

namespace Fse.Bench;

/// <summary>What a launcher passes to the server it starts besides the model, FSE mode and device.</summary>
public sealed record ServerLaunchOptions
{
    /// <summary>The longest prompt plus output the server must accept; null keeps the server's default.</summary>
    public int? MaxModelLen { get; init; }

    /// <summary>More engine-specific command-line arguments.</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    /// <summary>How long to wait until the server answers.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>A server a launcher started: where it answers and what it serves.</summary>
public sealed record LaunchedServer(OpenAiEndpoint Endpoint, string Fse, string Model, string? Device);

/// <summary>Starts and stops one server per FSE mode (fse-server as a child process in the module; anything in tests).</summary>
public interface IServerLauncher
{
    /// <param name="fse">"On" or "Off".</param>
    Task<LaunchedServer> StartAsync(string model, string fse, string? device, ServerLaunchOptions options, CancellationToken ct);

    Task StopAsync(LaunchedServer server, CancellationToken ct);
}

/// <summary>
/// The FSE off/on study on one model: for each mode in turn a fresh server is started, the same sweep (same settings,
/// same seed, so the same prompts) runs against it, and the server is stopped in a finally, also when the sweep fails
/// or is cancelled. Results stream out as each point finishes, tagged with the mode.
/// </summary>
public sealed class FseModeSweep(IServerLauncher launcher, string model, IReadOnlyList<string> modes, string? device, ServerLaunchOptions options,
    BenchmarkSettings settings)
{
    public async IAsyncEnumerable<FseBenchmarkResult> RunAsync(IProgress<BenchmarkProgress>? progress = null, [EnumeratorCancellation] CancellationToken ct = default)
    {
        if (modes.Count == 0) throw new ArgumentException("At least one FSE mode is needed.", nameof(modes));
        foreach (var mode in modes)
        {
            var server = await launcher.StartAsync(model, mode, device, options, ct).ConfigureAwait(false);
            try
            {
                using var client = new OpenAiClient(server.Endpoint);
                var sweep = new BenchmarkSweep(client, new BenchmarkServer(server.Endpoint, server.Model, server.Fse, server.Device), settings);
                await foreach (var r in sweep.RunAsync(progress, ct).ConfigureAwait(false)) yield return r;
            }
            finally
            {
                await launcher.StopAsync(server, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }
}
