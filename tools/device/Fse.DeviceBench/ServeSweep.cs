using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Fse.Bench;
using Fse.Client;

namespace Fse.DeviceBench;

/// <summary>
/// The reference study through the real server: fse-server started per FSE mode on this machine's GPU, the serving sweep
/// (vllm bench serve semantics, same seed and prompts for both modes) run against it, and the off → on delta table.
/// </summary>
internal static class ServeSweep
{
    public sealed record Settings(string ServerDll, string Model, string Device, int[] Isl, int[] Osl, int[] Concurrency, int PromptsPerConcurrency, string[] ServerArgs);

    public static async Task<string> RunAsync(Settings s)
    {
        var launcher = new ProcessLauncher(s.ServerDll);
        var grid = BenchmarkGrid.Build(s.Isl, s.Osl, GridPairing.Zip, s.Concurrency, [double.PositiveInfinity], null, s.PromptsPerConcurrency);
        var settings = new BenchmarkSettings { Grid = grid, Seed = 1, WarmupRequests = 2, Label = "devicebench" };
        var options = new ServerLaunchOptions { ExtraArguments = s.ServerArgs, StartTimeout = TimeSpan.FromMinutes(8) };
        var results = new List<FseBenchmarkResult>();
        var progress = new Progress<BenchmarkProgress>(_ => { });
        await foreach (var r in new FseModeSweep(launcher, s.Model, ["Off", "On"], s.Device, options, settings).RunAsync(progress))
        {
            Console.WriteLine($"FSE {r.Fse} ISL {r.InputLength} OSL {r.OutputLength} MC {r.MaxConcurrency}: {r.Completed} done, {r.Failed} failed, " +
                $"TTFT {r.MeanTtftMs:F1} ms, TPOT {r.MeanTpotMs:F2} ms, {r.OutputThroughput:F1} out tok/s");
            results.Add(r);
        }
        var set = BenchmarkComparer.Compare(results.Where(r => r.Fse == "off" || r.Fse == "Off"), results.Where(r => r.Fse == "on" || r.Fse == "On"));
        var text = new StringBuilder();
        text.AppendLine($"server sweep: {s.Model} {string.Join(' ', s.ServerArgs)} on {s.Device}; {s.PromptsPerConcurrency} prompts per unit of concurrency; failed requests: {results.Sum(r => r.Failed)}");
        foreach (var w in set.Warnings) text.AppendLine("warning: " + w);
        text.Append(BenchmarkComparer.ToMarkdown(set.Rows));
        return text.ToString();
    }

    /// <summary>Starts fse-server as a child process and waits for its "listening on" line; stops it with SIGTERM.</summary>
    private sealed class ProcessLauncher(string serverDll) : IServerLauncher
    {
        private readonly Dictionary<LaunchedServer, Process> _processes = [];

        public async Task<LaunchedServer> StartAsync(string model, string fse, string? device, ServerLaunchOptions options, CancellationToken ct)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { serverDll, "--model", model, "--fse", fse.ToLowerInvariant(), "--device", device ?? "auto", "--port", "0" }.Concat(options.ExtraArguments))
                psi.ArgumentList.Add(a);
            var p = Process.Start(psi)!;
            var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            p.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) { ready.TrySetException(new InvalidOperationException("fse-server exited before it was ready.")); return; }
                Console.WriteLine("  server: " + e.Data);
                const string prefix = "fse-server listening on ";
                if (e.Data.StartsWith(prefix, StringComparison.Ordinal)) ready.TrySetResult(e.Data[prefix.Length..].Trim());
            };
            p.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.WriteLine("  server!: " + e.Data); };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            var url = await ready.Task.WaitAsync(options.StartTimeout, ct).ConfigureAwait(false);
            var server = new LaunchedServer(OpenAiEndpoint.Parse(url), fse, model, device);
            _processes[server] = p;
            return server;
        }

        public async Task StopAsync(LaunchedServer server, CancellationToken ct)
        {
            var p = _processes[server];
            // How the server ran its steps: recorded graphs against replays and all steps (its /metrics totals).
            try
            {
                using var http = new HttpClient { BaseAddress = server.Endpoint.Root, Timeout = TimeSpan.FromSeconds(10) };
                var metrics = await http.GetStringAsync("metrics", ct).ConfigureAwait(false);
                foreach (var line in metrics.Split('\n'))
                    if (line.StartsWith("fse:step_graph", StringComparison.Ordinal) || line.StartsWith("fse:engine_steps_total", StringComparison.Ordinal))
                        Console.WriteLine($"  server FSE {server.Fse}: {line}");
            }
            catch (HttpRequestException e)
            {
                Console.WriteLine($"  server FSE {server.Fse}: /metrics unavailable ({e.Message})");
            }
            _ = Kill(p.Id, 15);
            if (!p.WaitForExit(30_000)) p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync(ct).ConfigureAwait(false);
            _processes.Remove(server);
        }

        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        private static extern int Kill(int pid, int signal);
    }
}
