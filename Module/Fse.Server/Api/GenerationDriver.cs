using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Fse.Runtime.Inference;
using Fse.Runtime.Serving;
using Microsoft.AspNetCore.Http;

namespace Fse.Server.Api;

/// <summary>One prompt of a request, tokenized.</summary>
internal sealed record PromptInput(int[] TokenIds, string? Text);

/// <summary>One choice of a response while it is produced: its run and everything it has produced so far.</summary>
internal sealed class ChoiceState(int index, PromptInput prompt, CompletionRun run)
{
    public int Index { get; } = index;
    public PromptInput Prompt { get; } = prompt;
    public CompletionRun Run { get; } = run;
    public StringBuilder Text { get; } = new();
    public List<GeneratedToken> Tokens { get; } = [];
    public IReadOnlyList<PositionLogprobs>? PromptLogprobs { get; set; }
    public string? FinishReason { get; set; }
    public string? StopString { get; set; }
    public string? Error { get; set; }
    public long LastTokenAt { get; set; }

    /// <summary>The finish reason the run reported (set as deltas are read, before the response applies them).</summary>
    public string? RunFinish { get; set; }

    /// <summary>Where the next streamed chunk's <c>text_offset</c> continues.</summary>
    public int LogprobOffset { get; set; }

    /// <summary>Whether a chunk of this choice was streamed already.</summary>
    public bool Started { get; set; }

    /// <summary>vLLM's <c>stop_reason</c>: the matched stop string, the stop token id, or null (end of sequence, length).</summary>
    public object? StopReason =>
        StopString is not null ? StopString
        : FinishReason == "stop" && Tokens.Count > 0 && Run.Sequence.Request.StopTokenIds.Contains(Tokens[^1].TokenId) ? Tokens[^1].TokenId
        : null;

    public bool Failed => FinishReason is "error" or "abort";

    public void Apply(CompletionDelta d)
    {
        Text.Append(d.Text);
        Tokens.AddRange(d.Tokens);
        if (d.PromptLogprobs is not null) PromptLogprobs = d.PromptLogprobs;
        if (d.FinishReason is not null)
        {
            FinishReason = d.FinishReason;
            StopString = d.StopString;
            Error = d.Error;
        }
    }
}

/// <summary>Submits a request's prompts as engine sequences and reads their deltas, for both completion endpoints.</summary>
internal static class GenerationDriver
{
    /// <summary>The engine request for one prompt (after the request's fields were checked).</summary>
    public static EngineRequest Request(GenerationParameters p, int[] promptIds, int defaultMaxTokens, int? logprobs, int? promptLogprobs) => new()
    {
        PromptTokenIds = promptIds,
        MaxTokens = p.MaxTokens ?? defaultMaxTokens,
        Sampling = new SamplingParams { Temperature = p.Temperature, TopP = p.TopP, Seed = p.Seed },
        StopTokenIds = p.StopTokenIds.ToHashSet(),
        IgnoreEos = p.IgnoreEos,
        Logprobs = logprobs,
        PromptLogprobs = promptLogprobs,
    };

    /// <summary>Validates every request, then submits them all (a refused batch submits nothing).</summary>
    public static List<ChoiceState> Submit(ServerState state, IReadOnlyList<(PromptInput Prompt, EngineRequest Request)> items, TextOptions text)
    {
        foreach (var (_, r) in items) state.Engine.Validate(r);
        var choices = new List<ChoiceState>(items.Count);
        try
        {
            for (int i = 0; i < items.Count; i++)
                choices.Add(new ChoiceState(i, items[i].Prompt, new CompletionRun(state.Engine, items[i].Request, state.Tokenizer, text)));
        }
        catch
        {
            foreach (var c in choices) c.Run.Sequence.Cancel();
            throw;
        }
        return choices;
    }

    /// <summary>Reads every choice to its end (a non-streamed response).</summary>
    public static async Task CollectAsync(ServerState state, List<ChoiceState> choices, CancellationToken ct)
    {
        await foreach (var (choice, delta) in MergeAsync(state, choices, ct).ConfigureAwait(false)) choice.Apply(delta);
    }

    /// <summary>The deltas of all choices in the order they arrive. Cancelling cancels every sequence still running.</summary>
    public static async IAsyncEnumerable<(ChoiceState Choice, CompletionDelta Delta)> MergeAsync(
        ServerState state, List<ChoiceState> choices, [EnumeratorCancellation] CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (choices.Count == 1)
        {
            var only = choices[0];
            try
            {
                await foreach (var d in only.Run.ReadAsync(stop.Token).ConfigureAwait(false))
                {
                    Observe(state, only, d);
                    yield return (only, d);
                }
            }
            finally { Finished(state, only); }
            yield break;
        }
        var channel = Channel.CreateUnbounded<(ChoiceState, CompletionDelta)>(new UnboundedChannelOptions { SingleReader = true });
        var readers = choices.Select(async c =>
        {
            try
            {
                await foreach (var d in c.Run.ReadAsync(stop.Token).ConfigureAwait(false))
                {
                    Observe(state, c, d);
                    await channel.Writer.WriteAsync((c, d), stop.Token).ConfigureAwait(false);
                }
            }
            finally { Finished(state, c); }
        }).ToArray();
        var all = Task.WhenAll(readers).ContinueWith(t => channel.Writer.TryComplete(t.Exception?.InnerException), TaskScheduler.Default);
        try
        {
            await foreach (var item in channel.Reader.ReadAllAsync(stop.Token).ConfigureAwait(false)) yield return item;
        }
        finally
        {
            stop.Cancel();
            try { await all.ConfigureAwait(false); } catch (OperationCanceledException) { }
        }
    }

    private static void Observe(ServerState state, ChoiceState c, CompletionDelta d)
    {
        if (d.FinishReason is not null) c.RunFinish = d.FinishReason;
        if (d.Tokens.Count == 0) return;
        long now = Stopwatch.GetTimestamp();
        if (c.LastTokenAt != 0) state.Metrics.ObserveInterTokenLatency((now - c.LastTokenAt) / (double)Stopwatch.Frequency);
        c.LastTokenAt = now;
    }

    /// <summary>Records the request's metrics once its run ended (or was abandoned: a client that went away).</summary>
    private static void Finished(ServerState state, ChoiceState c) =>
        state.Metrics.RequestFinished(c.Run.Sequence, c.Prompt.TokenIds.Length, c.Run.CompletionTokens, c.RunFinish ?? "abort");

    /// <summary>The error a failed choice answers with (non-streamed) or streams as its last event.</summary>
    public static ApiException FailureOf(ChoiceState c) => c.FinishReason == "abort"
        ? new ApiException(StatusCodes.Status503ServiceUnavailable, "The request was aborted: the server is shutting down.")
        : new ApiException(StatusCodes.Status500InternalServerError, c.Error ?? "The generation failed.");

    /// <summary>Writes the model check every generation endpoint makes.</summary>
    public static void CheckModel(ServerState state, string? model)
    {
        if (model is not null && !string.Equals(model, state.ServedName, StringComparison.Ordinal))
            throw new ApiException(StatusCodes.Status404NotFound, $"The model `{model}` does not exist.", "model", code: "model_not_found");
    }
}
