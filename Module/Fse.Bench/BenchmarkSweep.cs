using System.Diagnostics;
using System.Runtime.CompilerServices;
using Fse.Client;

namespace Fse.Bench;

/// <summary>
/// Runs a benchmark grid against one OpenAI-compatible server, point after point (vLLM's <c>benchmark()</c>): random
/// prompts of exact length, optional warm-up requests, then every request released on its arrival schedule and sent
/// once a slot of the concurrency cap is free; the point's duration is the wall time from the first release to the
/// last answer. Each finished point is appended to <see cref="BenchmarkSettings.OutFile"/> before it is yielded.
/// Cancelling stops the running point at once (its in-flight requests are abandoned and it is not reported) and
/// throws <see cref="OperationCanceledException"/>; every point yielded before stays yielded and written.
/// </summary>
public sealed class BenchmarkSweep
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);
    private readonly OpenAiClient _client;
    private readonly BenchmarkServer _server;
    private readonly BenchmarkSettings _settings;

    public BenchmarkSweep(OpenAiClient client, BenchmarkServer server, BenchmarkSettings settings)
    {
        if (settings.Grid.Count == 0) throw new ArgumentException("The grid has no point.", nameof(settings));
        if (!(settings.Burstiness > 0)) throw new ArgumentOutOfRangeException(nameof(settings), settings.Burstiness, "The burstiness must be positive.");
        if (!(settings.RangeRatio >= 0 && settings.RangeRatio < 1)) throw new ArgumentOutOfRangeException(nameof(settings), settings.RangeRatio, "The range ratio must be in [0, 1).");
        if (settings.WarmupRequests < 0) throw new ArgumentOutOfRangeException(nameof(settings), settings.WarmupRequests, "Warm-up requests cannot be negative.");
        _client = client;
        _server = server;
        _settings = settings;
    }

    public async IAsyncEnumerable<FseBenchmarkResult> RunAsync(IProgress<BenchmarkProgress>? progress = null, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var facts = await ServerFacts.ReadAsync(_client, _server, ct).ConfigureAwait(false);
        int vocab = _settings.VocabSize ?? facts.VocabSize ?? throw new BenchmarkSetupException(
            $"The vocabulary size to draw prompt token ids from is unknown: {_client.Endpoint}/v1/models gives no vocab_size for '{facts.Model}'. " +
            "Give it (the tokenizer's regular vocabulary, without added special tokens; 151643 for Qwen2/Qwen3).");
        var tokenizer = await ServerPromptTokenizer.ProbeAsync(_client, facts.Model, ct).ConfigureAwait(false);
        var promptCache = new Dictionary<(int, int, int), PromptSet>();

        for (int i = 0; i < _settings.Grid.Count; i++)
        {
            var point = _settings.Grid[i];
            var state = new PointState(i, _settings.Grid.Count, point, progress);
            state.Report(BenchmarkPhase.PreparingPrompts);
            var key = (point.InputLength, point.OutputLength, point.NumPrompts);
            if (!promptCache.TryGetValue(key, out var prompts))
            {
                var spec = new RandomPromptSpec(point.NumPrompts, point.InputLength, point.OutputLength, _settings.RangeRatio, vocab, _settings.Seed);
                promptCache[key] = prompts = await RandomPrompts.GenerateAsync(spec, tokenizer, ct).ConfigureAwait(false);
            }
            var result = await RunPointAsync(point, facts, prompts, tokenizer, state, ct).ConfigureAwait(false);
            if (_settings.OutFile is { } file) FseBenchmarkCsv.Append(file, result);
            yield return result;
        }
    }

    private async Task<FseBenchmarkResult> RunPointAsync(
        BenchmarkGridPoint point, ServerFacts facts, PromptSet prompts, IPromptTokenizer? tokenizer, PointState state, CancellationToken ct)
    {
        if (_settings.WarmupRequests > 0)
        {
            state.Report(BenchmarkPhase.WarmingUp);
            using var warmupSlots = new SemaphoreSlim(point.MaxConcurrency);
            long warmupStart = Stopwatch.GetTimestamp();
            await Task.WhenAll(Enumerable.Range(0, _settings.WarmupRequests).Select(async _ =>
            {
                await warmupSlots.WaitAsync(ct).ConfigureAwait(false);
                try { await SendAsync(prompts.Prompts[0], facts, warmupStart, null, null, ct).ConfigureAwait(false); }
                finally { warmupSlots.Release(); }
            })).ConfigureAwait(false);
        }

        var delays = ArrivalSchedule.Build(prompts.Prompts.Count, point.RequestRate, _settings.Burstiness, _settings.Seed);
        using var slots = new SemaphoreSlim(point.MaxConcurrency);
        using var reporting = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var startedAt = DateTimeOffset.UtcNow;
        long runStart = Stopwatch.GetTimestamp();
        state.Start(runStart);
        var reporter = ReportPeriodicallyAsync(state, reporting.Token);
        var outcomes = new RequestOutcome[prompts.Prompts.Count];
        var tasks = new List<Task>(outcomes.Length);

        async Task SendWhenSlotFreeAsync(int index)
        {
            await slots.WaitAsync(ct).ConfigureAwait(false);
            try { outcomes[index] = await SendAsync(prompts.Prompts[index], facts, runStart, state.OnChunk, tokenizer, ct).ConfigureAwait(false); }
            finally { slots.Release(); }
            state.OnRequestDone(outcomes[index].Success);
        }

        try
        {
            for (int r = 0; r < outcomes.Length; r++)
            {
                var wait = delays[r] - StreamingRequest.Seconds(Stopwatch.GetTimestamp() - runStart);
                if (wait > 0) await Task.Delay(TimeSpan.FromSeconds(wait), ct).ConfigureAwait(false);
                // Started in release order: SemaphoreSlim queues async waiters first come, first served, so requests are
                // sent in order as slots free up (as vLLM's asyncio semaphore does).
                tasks.Add(SendWhenSlotFreeAsync(r));
            }
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        finally
        {
            reporting.Cancel();
            await reporter.ConfigureAwait(false);
            if (ct.IsCancellationRequested)
            {
                // Let abandoned requests unwind before the semaphore is disposed under them.
                try { await Task.WhenAll(tasks).ConfigureAwait(false); } catch (Exception) { }
            }
        }
        double duration = StreamingRequest.Seconds(Stopwatch.GetTimestamp() - runStart);
        var finishedAt = DateTimeOffset.UtcNow;
        state.Report(BenchmarkPhase.Finished);
        var metrics = RunMetrics.Compute(outcomes, duration);
        return FseBenchmarkResult.Create(point, _settings, facts, _client.Endpoint.ToString(), prompts, metrics, startedAt, finishedAt, Notes(prompts, outcomes, metrics));
    }

    private Task<RequestOutcome> SendAsync(BenchmarkPrompt prompt, ServerFacts facts, long runStart, Action? onChunk, IPromptTokenizer? tokenizer, CancellationToken ct)
    {
        var request = new CompletionRequest
        {
            Model = facts.Model,
            PromptText = prompt.Text,
            PromptTokens = prompt.TokenIds,
            MaxTokens = prompt.OutputLength,
            IgnoreEos = true,
            Temperature = 0,   // as vllm bench serve sends: greedy, so sampling cost does not enter the timings
        };
        return StreamingRequest.RunAsync(_client, request, prompt.PromptLength, runStart, onChunk, tokenizer, ct);
    }

    private static async Task ReportPeriodicallyAsync(PointState state, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(ProgressInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false)) state.Report(BenchmarkPhase.Running);
        }
        catch (OperationCanceledException) { }
    }

    private static string Notes(PromptSet prompts, IReadOnlyList<RequestOutcome> outcomes, RunMetrics metrics)
    {
        var notes = new List<string>();
        if (prompts.Mode == PromptMode.TokenIds)
            notes.Add("prompts sent as token ids: the server offers no /tokenize and /detokenize");
        if (prompts.TokenMismatch != 0)
            notes.Add($"text prompts missed their target lengths by {prompts.TokenMismatch:+#;-#} tokens in all after {RandomPrompts.MaxRetries} adjustments");
        var ok = outcomes.Where(o => o.Success).ToList();
        long sent = SentLength(prompts, outcomes);
        if (ok.Count > 0 && sent != metrics.TotalInputTokens)
            notes.Add($"the server counted {metrics.TotalInputTokens} prompt tokens where {sent} were sent (special tokens added, or another tokenizer)");
        int retokenized = ok.Count(o => o.OutputLengthSource == OutputLengthSource.Retokenized);
        if (retokenized > 0) notes.Add($"{retokenized} output lengths re-tokenised (no usage in the stream)");
        int counted = ok.Count(o => o.OutputLengthSource == OutputLengthSource.ChunkCount);
        if (counted > 0) notes.Add($"{counted} output lengths counted as stream chunks (no usage in the stream and no /tokenize)");
        return string.Join("; ", notes);
    }

    private static long SentLength(PromptSet prompts, IReadOnlyList<RequestOutcome> outcomes)
    {
        long total = 0;
        for (int i = 0; i < outcomes.Count; i++)
            if (outcomes[i].Success) total += prompts.Prompts[i].PromptLength;
        return total;
    }

    /// <summary>Counters of the running point, updated from request tasks and read by the progress reporter.</summary>
    private sealed class PointState(int index, int count, BenchmarkGridPoint point, IProgress<BenchmarkProgress>? progress)
    {
        private long _runStart;
        private int _done;
        private int _failed;
        private long _chunks;

        public void Start(long runStart) => Volatile.Write(ref _runStart, runStart);

        public void OnChunk() => Interlocked.Increment(ref _chunks);

        public void OnRequestDone(bool success)
        {
            Interlocked.Increment(ref _done);
            if (!success) Interlocked.Increment(ref _failed);
        }

        public void Report(BenchmarkPhase phase)
        {
            if (progress is null) return;
            long start = Volatile.Read(ref _runStart);
            double elapsed = start == 0 ? 0 : StreamingRequest.Seconds(Stopwatch.GetTimestamp() - start);
            progress.Report(new BenchmarkProgress(index, count, point, phase, Volatile.Read(ref _done), Volatile.Read(ref _failed),
                point.NumPrompts, elapsed, elapsed > 0 ? Interlocked.Read(ref _chunks) / elapsed : 0));
        }
    }
}
