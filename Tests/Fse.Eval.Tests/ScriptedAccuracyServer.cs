using System.Collections.Concurrent;
using System.Text.Json;
using Fse.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Fse.Eval.Tests;

/// <summary>What the scripted server does for one request of an item: answer with text, fail with a status, answer with no choices, or hang.</summary>
public sealed record Reply(string? Text = null, int Status = 200, bool NoChoices = false, bool Hang = false)
{
    public static Reply Answer(string text) => new(text);
    public static Reply Error(int status) => new(Status: status);
}

/// <summary>
/// An OpenAI-compatible server that answers <c>/v1/completions</c> from a table: it finds the item by the last
/// question in the prompt and plays that item's replies in order (the last one repeats). It records every request body.
/// </summary>
public sealed class ScriptedAccuracyServer : IAsyncDisposable
{
    private readonly ScriptedServer _server;
    private int _inFlight;

    private ScriptedAccuracyServer(ScriptedServer server) => _server = server;

    public Uri Url => _server.Url;

    public ConcurrentQueue<JsonElement> Requests { get; } = new();

    public ConcurrentDictionary<int, int> Calls { get; } = new();

    public int MaxInFlight;

    /// <summary>Hanging requests the client gave up on (the connection was aborted).</summary>
    public int Aborted;

    public static async Task<ScriptedAccuracyServer> StartAsync(IReadOnlyDictionary<string, int> indexByQuestion, Func<int, int, Reply> script,
        string modelsJson = """{"object":"list","data":[{"id":"tiny-moe","object":"model","owned_by":"fse","fse":"on","device":"cpu"}]}""",
        TimeSpan? delay = null)
    {
        ScriptedAccuracyServer? self = null;
        var server = await ScriptedServer.StartAsync(app =>
        {
            app.MapGet("/v1/models", () => Results.Text(modelsJson, "application/json"));
            app.MapPost("/v1/completions", async (HttpContext ctx) =>
            {
                var s = self!;
                var now = Interlocked.Increment(ref s._inFlight);
                try
                {
                    int max;
                    while ((max = Volatile.Read(ref s.MaxInFlight)) < now && Interlocked.CompareExchange(ref s.MaxInFlight, now, max) != max) { }
                    var body = (await JsonDocument.ParseAsync(ctx.Request.Body)).RootElement.Clone();
                    s.Requests.Enqueue(body);
                    var prompt = body.GetProperty("prompt").GetString()!;
                    var question = prompt[(prompt.LastIndexOf("Question: ", StringComparison.Ordinal) + 10)..prompt.LastIndexOf("\nAnswer:", StringComparison.Ordinal)];
                    var index = indexByQuestion[question];
                    var call = s.Calls.AddOrUpdate(index, 1, (_, n) => n + 1);
                    if (delay is { } d) await Task.Delay(d, ctx.RequestAborted);
                    var reply = script(index, call);
                    if (reply.Hang)
                    {
                        try { await Task.Delay(Timeout.Infinite, ctx.RequestAborted); }
                        catch (OperationCanceledException) { Interlocked.Increment(ref s.Aborted); throw; }
                    }
                    if (reply.Status != 200)
                        return Results.Json(new { error = new { message = $"scripted {reply.Status}", type = "server_error", code = reply.Status } }, statusCode: reply.Status);
                    if (reply.NoChoices) return Results.Json(new { id = "c", choices = Array.Empty<object>() });
                    return Results.Json(new { id = "c", model = "tiny-moe", choices = new[] { new { index = 0, text = reply.Text, finish_reason = "stop" } } });
                }
                finally
                {
                    Interlocked.Decrement(ref s._inFlight);
                }
            });
        });
        self = new ScriptedAccuracyServer(server);
        return self;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
