using System.Diagnostics;
using Fse.Client;

namespace Fse.Bench.Tests;

public class StreamingRequestTests
{
    private static CompletionRequest Request(int maxTokens) =>
        new() { Model = "scripted-moe", PromptTokens = [5, 6, 7, 8], MaxTokens = maxTokens, IgnoreEos = true };

    [Fact]
    public async Task E2elEndsAtTheLastChoiceChunkNotTheUsageChunk()
    {
        await using var server = await BenchServer.StartAsync(new BenchServerScript
        {
            FirstTokenDelay = TimeSpan.FromMilliseconds(120),
            TokenGap = TimeSpan.FromMilliseconds(30),
            UsageDelay = TimeSpan.FromMilliseconds(400),
            EmptyFirstText = true,
        });
        using var client = server.Endpoint.Client();
        await StreamingRequest.RunAsync(client, Request(1), 4, Stopwatch.GetTimestamp(), null, null, default);   // JIT and connection
        while (server.Seen.TryDequeue(out _)) { }
        RequestOutcome o = null!;
        int chunks = 0;
        await WallClock.WithinAttemptsAsync(5, async check =>
        {
            chunks = 0;
            o = await StreamingRequest.RunAsync(client, Request(6), 4, Stopwatch.GetTimestamp(), () => chunks++, null, default);
            Assert.True(o.Success, o.Error);
            check.Within("TTFT ms", 120, o.TtftSeconds * 1000);               // the empty-text first chunk counts
            check.Within("E2EL ms", 270, o.LatencySeconds * 1000);            // 120 + 5·30 ms; the usage chunk 400 ms later does not
            check.Within("mean ITL ms", 30, o.ItlSeconds.Average() * 1000);
            foreach (var g in o.ItlSeconds) check.InRange("ITL", g, 0.015, 0.045);
        });
        Assert.Equal(6, chunks);
        Assert.Equal(5, o.ItlSeconds.Count);
        Assert.Equal(6, o.OutputTokens);
        Assert.Equal(OutputLengthSource.Usage, o.OutputLengthSource);
        Assert.Equal(4, o.PromptTokens);
        var seen = server.Seen.Last();
        Assert.True(seen.IgnoreEos);
        Assert.True(seen.IncludeUsage);
        Assert.Equal(6, seen.MaxTokens);
    }

    [Fact]
    public async Task WithoutUsageTheOutputIsReTokenisedOrElseCountedAsChunks()
    {
        await using var server = await BenchServer.StartAsync(new BenchServerScript { FirstTokenDelay = TimeSpan.Zero, TokenGap = TimeSpan.Zero, SendUsage = false });
        using var client = server.Endpoint.Client();
        var o = await StreamingRequest.RunAsync(client, Request(5), 4, Stopwatch.GetTimestamp(), null, new InProcessTokenizer(), default);
        Assert.Equal(OutputLengthSource.Retokenized, o.OutputLengthSource);
        Assert.Equal(ScriptedTokenizer.Encode(o.GeneratedText).Count, o.OutputTokens);
        var counted = await StreamingRequest.RunAsync(client, Request(5), 4, Stopwatch.GetTimestamp(), null, null, default);
        Assert.Equal(OutputLengthSource.ChunkCount, counted.OutputLengthSource);
        Assert.Equal(5, counted.OutputTokens);
        Assert.Equal(4, counted.PromptTokens);
    }

    [Fact]
    public async Task AServerErrorIsAFailureCarryingTheServersMessage()
    {
        await using var server = await BenchServer.StartAsync(new BenchServerScript { FailEvery = 1 });
        using var client = server.Endpoint.Client();
        var o = await StreamingRequest.RunAsync(client, Request(3), 4, Stopwatch.GetTimestamp(), null, null, default);
        Assert.False(o.Success);
        Assert.Contains("503", o.Error);
        Assert.Contains("scripted overload on request 1", o.Error);
    }

    [Fact]
    public async Task AStreamWithoutAnyChoiceChunkIsAFailure()
    {
        await using var server = await BenchServer.StartAsync(new BenchServerScript());
        using var client = server.Endpoint.Client();
        var o = await StreamingRequest.RunAsync(client, Request(0), 4, Stopwatch.GetTimestamp(), null, null, default);
        Assert.False(o.Success);
        Assert.Contains("TTFT", o.Error);
    }

    [Fact]
    public async Task NoServerIsAFailureNotAnException()
    {
        using var client = new OpenAiClient(OpenAiEndpoint.Parse("http://127.0.0.1:1"));
        var o = await StreamingRequest.RunAsync(client, Request(3), 4, Stopwatch.GetTimestamp(), null, null, default);
        Assert.False(o.Success);
        Assert.False(string.IsNullOrWhiteSpace(o.Error));
    }

    [Fact]
    public async Task CancellationThrowsRatherThanCountingAFailure()
    {
        await using var server = await BenchServer.StartAsync(new BenchServerScript { FirstTokenDelay = TimeSpan.FromSeconds(5) });
        using var client = server.Endpoint.Client();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => StreamingRequest.RunAsync(client, Request(3), 4, Stopwatch.GetTimestamp(), null, null, cts.Token));
    }
}
