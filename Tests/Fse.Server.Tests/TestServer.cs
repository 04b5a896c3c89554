using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fse.Kernels;
using Fse.Runtime;
using Fse.Runtime.Serving;
using Fse.Server;
using Microsoft.AspNetCore.Builder;

namespace Fse.Server.Tests;

/// <summary>fse-server started in-process through its builder on 127.0.0.1 port 0, with an HTTP client for it.</summary>
public sealed class TestServer : IAsyncDisposable
{
    public const string Preset = "tiny-qwen3-next";

    private TestServer(WebApplication app, ServerOptions options)
    {
        App = app;
        Options = options;
        Url = FseServerApp.Address(app);
        Http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue }) { BaseAddress = new Uri(Url + "/"), Timeout = TimeSpan.FromSeconds(60) };
        if (options.ApiKey is { } key) Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
    }

    public WebApplication App { get; }
    public ServerOptions Options { get; }
    public string Url { get; }
    public HttpClient Http { get; }
    public ServerState State => FseServerApp.State(App);
    public InferenceEngine Engine => State.Engine;

    /// <summary>Starts a server; it loads <paramref name="model"/> (a preset or directory) itself unless a loaded one is given.</summary>
    public static async Task<TestServer> StartAsync(Func<ServerOptions, ServerOptions>? configure = null, string model = Preset, ServedModel? loaded = null)
    {
        var options = new ServerOptions { Model = model, Port = 0, Engine = new EngineOptions { MaxModelLen = 512, MaxNumSeqs = 256 } };
        if (configure is not null) options = configure(options);
        var served = loaded ?? ServedModel.Load(options.Model, options.Fse, Devices.Create(options.Device), options.Preset);
        var app = FseServerApp.Build(options, served, ownsModel: loaded is null);
        await app.StartAsync();
        return new TestServer(app, options);
    }

    public async Task<HttpResponseMessage> PostAsync(string path, object body, CancellationToken ct = default) =>
        await Http.PostAsync(path, new StringContent(body is string s ? s : JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"), ct);

    public async Task<JsonNode> PostJsonAsync(string path, object body)
    {
        using var r = await PostAsync(path, body);
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"{path}: HTTP {(int)r.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    /// <summary>Posts a streamed request and returns every <c>data:</c> payload in order ("[DONE]" included).</summary>
    public async Task<List<string>> StreamAsync(string path, object body)
    {
        using var r = await PostAsync(path, body);
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"{path}: HTTP {(int)r.StatusCode}: {text}");
        Assert.StartsWith("text/event-stream", r.Content.Headers.ContentType?.ToString());
        var events = new List<string>();
        foreach (var block in text.Split("\n\n"))
        {
            if (block.Length == 0) continue;
            Assert.StartsWith("data: ", block);
            events.Add(block["data: ".Length..]);
        }
        Assert.EndsWith("\n\n", text);
        return events;
    }

    /// <summary>The value of one sample of /metrics (labels ignored), e.g. <c>vllm:num_requests_running</c>.</summary>
    public async Task<double> MetricAsync(string name)
    {
        var text = await Http.GetStringAsync("metrics");
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal))
                return double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        }
        throw new Xunit.Sdk.XunitException($"/metrics has no sample {name}:\n{text}");
    }

    /// <summary>Waits until the engine has no sequence left and no KV block in use (as /metrics reports it).</summary>
    public async Task WaitForEmptyCacheAsync(TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            double running = await MetricAsync("vllm:num_requests_running"), usage = await MetricAsync("vllm:kv_cache_usage_perc");
            double waiting = await MetricAsync("vllm:num_requests_waiting");
            if (running == 0 && usage == 0 && waiting == 0) return;
            if (DateTime.UtcNow > until) Assert.Fail($"After {timeout.TotalSeconds} s: {running} running, {waiting} waiting, KV usage {usage}.");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
