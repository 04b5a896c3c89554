using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Fse.Runtime.Presets;
using Fse.Runtime.Serving;

namespace Fse.Server.Tests.Http;

/// <summary>Draining on shutdown, and the executable's exit codes and messages.</summary>
public sealed class ShutdownTests
{
    /// <remarks>
    /// Both sides of the grace period have wide margins so a loaded CI machine cannot flip the outcome: the long request
    /// asks for 60,000 tokens (over 10 s of decoding for the tiny model on an idle core, from a checkpoint whose
    /// max_position_embeddings is raised to allow it), the short one for 8 (a few milliseconds), and the grace is 3 s.
    /// </remarks>
    [Fact]
    public async Task ShutdownLetsShortRequestsFinishAndAbortsLongOnesWithAnErrorEvent()
    {
        string dir = Path.Combine(Path.GetTempPath(), "fse-shutdown-" + Guid.NewGuid().ToString("N"));
        PresetWriter.Write(TestServer.Preset, dir, seed: 3);
        var configPath = Path.Combine(dir, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["max_position_embeddings"] = 65536;
        File.WriteAllText(configPath, config.ToJsonString());
        var s = await TestServer.StartAsync(o => o with
        {
            ShutdownTimeout = TimeSpan.FromSeconds(3),
            Engine = o.Engine with { MaxModelLen = 65536, MaxNumSeqs = 4 },
        }, model: dir);
        try
        {
            using var response = await s.Http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "v1/completions")
            {
                Content = new StringContent("{\"prompt\": [1, 2, 3], \"max_tokens\": 60000, \"ignore_eos\": true, \"stream\": true}", System.Text.Encoding.UTF8, "application/json"),
            }, HttpCompletionOption.ResponseHeadersRead);
            var body = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: {", await body.ReadLineAsync());
            var quick = s.PostJsonAsync("v1/completions", new { prompt = new[] { 4, 5, 6 }, max_tokens = 8, ignore_eos = true });
            while (s.Engine.Stats.Running < 2 && !quick.IsCompleted) await Task.Delay(1);
            var stopping = s.App.StopAsync();
            var rest = await body.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Contains("\"error\"", rest);
            Assert.Contains("shutting down", rest);
            Assert.EndsWith("data: [DONE]\n\n", rest);
            Assert.Equal(8, (int)(await quick)["usage"]!["completion_tokens"]!);   // it fit in the grace period
            await stopping.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            s.Http.Dispose();
            await s.App.DisposeAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string ServerDll => Path.Combine(AppContext.BaseDirectory, "fse-server.dll");

    private static Process Launch(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(ServerDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    [Fact]
    public async Task TheExecutableServesAndExitsZeroOnSigterm()
    {
        using var p = Launch("--model", "tiny-qwen3-next", "--port", "0", "--max-model-len", "256", "--fse", "off", "--parent-pid", Environment.ProcessId.ToString());
        var stderr = p.StandardError.ReadToEndAsync();
        string? url = null;
        using var startup = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<string>();
        try
        {
            while (url is null && await p.StandardOutput.ReadLineAsync(startup.Token) is { } line)
            {
                seen.Add(line);
                if (line.StartsWith(ServerMain.ListeningPrefix)) url = line[ServerMain.ListeningPrefix.Length..];
            }
        }
        catch (OperationCanceledException) { p.Kill(); }
        if (url is null) Assert.Fail("fse-server never said where it listens: " + string.Join("\n", seen) + await stderr);
        var stdout = p.StandardOutput.ReadToEndAsync();
        using var http = new HttpClient { BaseAddress = new Uri(url + "/"), Timeout = TimeSpan.FromSeconds(20) };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health")).StatusCode);
        var models = JsonNode.Parse(await http.GetStringAsync("v1/models"))!["data"]![0]!;
        Assert.Equal("off", (string?)models["fse"]);
        using (Process.Start("kill", ["-TERM", p.Id.ToString()])) { }
        Assert.True(p.WaitForExit(20_000), "fse-server did not exit after SIGTERM.");
        Assert.Equal(0, p.ExitCode);
        Assert.Contains("fse-server: stopped", await stdout);
    }

    [Theory]
    [InlineData(1, "cannot serve", "--model", "/no/such/checkpoint")]
    [InlineData(1, "No CUDA device", "--model", "tiny-qwen3-next", "--device", "cuda")]
    [InlineData(2, "Unknown option --frobnicate", "--model", "tiny-qwen3-next", "--frobnicate", "3")]
    [InlineData(1, "max-model-len", "--model", "tiny-qwen3-next", "--max-model-len", "100000")]
    public async Task StartupFailuresExitNonZeroWithTheReasonOnStderr(int code, string text, params string[] args)
    {
        using var p = Launch(args);
        var stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(code, p.ExitCode);
        Assert.StartsWith(ServerMain.ErrorPrefix, stderr);
        Assert.Contains(text, stderr);
    }

    [Fact]
    public async Task APortInUseIsAStartupFailure()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            using var p = Launch("--model", "tiny-qwen3-next", "--port", port.ToString(), "--max-model-len", "128");
            var stderr = await p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(1, p.ExitCode);
            Assert.Contains($"cannot listen on 127.0.0.1:{port}", stderr);
            Assert.Contains("address already in use", stderr, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public void HelpExitsZero()
    {
        using var p = Launch("--help");
        var text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        Assert.Contains("--max-num-batched-tokens", text);
        _ = typeof(EngineOptions);
    }
}
