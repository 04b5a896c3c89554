using System.Diagnostics;
using System.Text;
using Fse.Client;

namespace Fse.Bench;

/// <summary>
/// Sends one streamed completion and times it the way <c>vllm bench serve</c> does
/// (<c>async_request_openai_completions</c>): TTFT at the first chunk with <c>choices</c> (even with empty text),
/// ITL between consecutive choice-bearing chunks, latency at the last choice-bearing chunk; the usage chunk only
/// supplies token counts. A request fails on any error or when no choice-bearing chunk arrived; a cancelled
/// request is not a failure, it throws.
/// </summary>
public static class StreamingRequest
{
    public static async Task<RequestOutcome> RunAsync(
        OpenAiClient client, CompletionRequest request, int promptLength, long runStartTicks,
        Action? onChunk, IPromptTokenizer? tokenizer, CancellationToken ct)
    {
        long start = Stopwatch.GetTimestamp();
        double startSeconds = Seconds(start - runStartTicks);
        long? first = null;
        long last = start;
        var itl = new List<double>(Math.Max(0, (request.MaxTokens ?? 1) - 1));
        var text = new StringBuilder();
        Usage? usage = null;
        int chunks = 0;
        try
        {
            await foreach (var chunk in client.StreamCompletionAsync(request, ct).ConfigureAwait(false))
            {
                if (chunk.Body.Choices.Count > 0)
                {
                    if (first is null) first = chunk.ArrivedAt;
                    else itl.Add(Seconds(chunk.ArrivedAt - last));
                    last = chunk.ArrivedAt;
                    text.Append(chunk.Body.Choices[0].Text);
                    chunks++;
                    onChunk?.Invoke();
                }
                if (chunk.Body.Usage is { } u) usage = u;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
        catch (Exception e) when (e is OpenAiException or HttpRequestException or IOException or OperationCanceledException)
        {
            return Failed(startSeconds, promptLength, e.Message);
        }
        if (first is null)
            return Failed(startSeconds, promptLength, "Never received a chunk with choices to calculate TTFT.");

        var generated = text.ToString();
        var (outputTokens, source) = await OutputLengthAsync(usage, generated, chunks, tokenizer, ct).ConfigureAwait(false);
        return new RequestOutcome
        {
            Success = true,
            StartSeconds = startSeconds,
            TtftSeconds = Seconds(first.Value - start),
            ItlSeconds = itl,
            LatencySeconds = Seconds(last - start),
            PromptTokens = usage is { PromptTokens: > 0 } ? usage.PromptTokens : promptLength,
            OutputTokens = outputTokens,
            OutputLengthSource = source,
            GeneratedText = generated,
        };
    }

    private static async Task<(int, OutputLengthSource)> OutputLengthAsync(Usage? usage, string text, int chunks, IPromptTokenizer? tokenizer, CancellationToken ct)
    {
        if (usage is { CompletionTokens: > 0 }) return (usage.CompletionTokens, OutputLengthSource.Usage);
        if (tokenizer is not null)
        {
            try
            {
                var ids = await tokenizer.TokenizeAsync(text, ct).ConfigureAwait(false);
                return (ids.Count, OutputLengthSource.Retokenized);
            }
            catch (OpenAiException) { }
        }
        return (chunks, OutputLengthSource.ChunkCount);
    }

    private static RequestOutcome Failed(double startSeconds, int promptLength, string error) =>
        new() { Success = false, StartSeconds = startSeconds, PromptTokens = promptLength, Error = error };

    internal static double Seconds(long ticks) => ticks / (double)Stopwatch.Frequency;
}
