using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Fse.Client;
using Fse.Eval.Prompting;
using Fse.Eval.Scoring;

namespace Fse.Eval.Running;

/// <summary>
/// Sends a plan's prompts to an OpenAI-compatible server (<c>POST /v1/completions</c>, greedy, with the task's stop
/// strings) at most <see cref="AccuracyRunOptions.Concurrency"/> at a time, retries transient failures with bounded
/// exponential backoff, cuts each response at its first stop string and scores it. Outcomes arrive in completion order.
/// Cancelling stops new requests and abandons those in flight: what finished before stays finished.
/// </summary>
public sealed class AccuracyRunner(OpenAiClient client, AccuracyRunOptions? options = null)
{
    private readonly AccuracyRunOptions _options = options ?? new AccuracyRunOptions();

    public AccuracyRunOptions Options => _options;

    /// <summary>
    /// Runs every item of the plan; yields each finished item (scored, or failed after its retries). Ends normally when
    /// <paramref name="ct"/> is cancelled, having yielded only items that finished.
    /// </summary>
    public async IAsyncEnumerable<AccuracyItemOutcome> RunAsync(AccuracyPlan plan, string model, [EnumeratorCancellation] CancellationToken ct = default)
    {
        _options.Validate();
        var channel = Channel.CreateUnbounded<AccuracyItemOutcome>(new UnboundedChannelOptions { SingleReader = true });
        // Also cancelled when the caller stops enumerating early, so no request outlives the enumeration.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var producer = Task.Run(() => ProduceAsync(plan, model, channel.Writer, stop.Token), CancellationToken.None);
        try
        {
            await foreach (var outcome in channel.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                yield return outcome;
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await producer.ConfigureAwait(false);
        }
    }

    /// <summary>Runs the plan to the end (or until cancelled) and returns every finished outcome in item order.</summary>
    public async Task<IReadOnlyList<AccuracyItemOutcome>> RunAllAsync(AccuracyPlan plan, string model, CancellationToken ct = default)
    {
        var all = new List<AccuracyItemOutcome>();
        await foreach (var o in RunAsync(plan, model, ct).ConfigureAwait(false)) all.Add(o);
        all.Sort((a, b) => a.Index.CompareTo(b.Index));
        return all;
    }

    private async Task ProduceAsync(AccuracyPlan plan, string model, ChannelWriter<AccuracyItemOutcome> writer, CancellationToken ct)
    {
        using var gate = new SemaphoreSlim(_options.Concurrency);
        var running = new List<Task>();
        try
        {
            foreach (var item in plan.Items)
            {
                try { await gate.WaitAsync(ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { break; }
                running.Add(RunItemAsync(plan, item, model, gate, writer, ct));
            }
            await Task.WhenAll(running).ConfigureAwait(false);
        }
        finally
        {
            writer.TryComplete();
        }
    }

    private async Task RunItemAsync(AccuracyPlan plan, AccuracyPromptItem item, string model, SemaphoreSlim gate, ChannelWriter<AccuracyItemOutcome> writer, CancellationToken ct)
    {
        try
        {
            if (await AskAsync(plan, item, model, ct).ConfigureAwait(false) is { } outcome) writer.TryWrite(outcome);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>One item with its retries; null when cancelled before it finished.</summary>
    internal async Task<AccuracyItemOutcome?> AskAsync(AccuracyPlan plan, AccuracyPromptItem item, string model, CancellationToken ct)
    {
        var task = plan.Task;
        var request = new CompletionRequest
        {
            Model = model,
            PromptText = item.Prompt,
            MaxTokens = _options.MaxTokens ?? task.MaxGenTokens,
            Temperature = task.Temperature,
            Stop = task.Until,
            Seed = _options.RequestSeed,
        };
        string? lastError = null;
        int attempt = 0;
        while (true)
        {
            attempt++;
            if (ct.IsCancellationRequested) return null;
            using var perRequest = CancellationTokenSource.CreateLinkedTokenSource(ct);
            perRequest.CancelAfter(_options.RequestTimeout);
            bool retryable;
            try
            {
                var response = await client.CompleteAsync(request, perRequest.Token).ConfigureAwait(false);
                var choice = response.Choices.FirstOrDefault(c => c.Index == 0) ?? response.Choices.FirstOrDefault();
                if (choice is not null)
                {
                    var text = StopSequences.Truncate(choice.Text, task.Until);
                    return new AccuracyItemOutcome(item.Index, item.PromptSha256, item.Reference, text, choice.FinishReason, attempt, null,
                        ItemScorer.Score(task, text, item.Reference));
                }
                lastError = "the server answered without a choice";
                retryable = true;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return null;
            }
            catch (OperationCanceledException)
            {
                lastError = $"no answer within {_options.RequestTimeout.TotalSeconds:0.#} s";
                retryable = true;
            }
            catch (OpenAiException e)
            {
                lastError = e.Message;
                retryable = e.IsTransient;
            }
            if (!retryable || attempt > _options.MaxRetries)
                return new AccuracyItemOutcome(item.Index, item.PromptSha256, item.Reference, null, null, attempt,
                    attempt > 1 ? $"{lastError} (after {attempt} attempts)" : lastError, []);
            var delay = TimeSpan.FromTicks(Math.Min(_options.RetryMaxDelay.Ticks, _options.RetryBaseDelay.Ticks << Math.Min(attempt - 1, 20)));
            try { await Task.Delay(delay, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { return null; }
        }
    }
}
