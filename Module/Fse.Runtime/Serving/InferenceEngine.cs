using System.Collections.Concurrent;
using System.Diagnostics;
using Fse.Kernels;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Inference;
using Fse.Runtime.Models;

namespace Fse.Runtime.Serving;

/// <summary>
/// Serves many generation requests on one model with continuous batching. One engine thread loops: take new
/// requests and cancellations, schedule a step (<see cref="Scheduler"/>), run it as one
/// <see cref="CausalLm.Forward"/> over every scheduled sequence (decode tokens and prefill chunks together, each with
/// its block table and state slot), sample, and publish each sequence's outputs to its channel. Requests join and
/// leave the batch at every step. A sequence is only sampled once every token before it is in the cache; a step that
/// fails ends its sequences with an error and frees their blocks, so no later step reads a half-written cache.
/// Thread-safe: <see cref="Submit"/>, <see cref="EngineSequence.Cancel"/> and <see cref="Stats"/> from any thread.
/// </summary>
public sealed class InferenceEngine : IDisposable
{
    private readonly CausalLm _model;
    private readonly ModelState _state;
    private readonly Scheduler _scheduler;
    private readonly HashSet<int> _eos;
    private readonly ConcurrentQueue<Sequence> _incoming = new();
    private readonly ConcurrentQueue<EngineSequence> _cancelled = new();
    private readonly ConcurrentDictionary<EngineSequence, Sequence> _live = new();
    private readonly AutoResetEvent _wake = new(false);
    private readonly Thread _thread;
    private readonly bool _hasLinearState;
    private readonly IStepGraphs? _graphs;
    private float[] _logits = [];
    private long _nextId;
    private int _queued;
    private volatile bool _accepting = true;
    private volatile bool _stopping;
    private volatile bool _dead;
    private volatile EngineStats _stats;
    private long _promptTokens, _generationTokens, _steps, _failedSteps;

    /// <param name="model">The model; the engine runs every forward step of it and must be its only user.</param>
    /// <param name="eosTokenIds">Ids that end a generation unless a request ignores them.</param>
    public InferenceEngine(CausalLm model, EngineOptions options, IReadOnlyCollection<int> eosTokenIds)
    {
        options.Validate(model.Config);
        _model = model;
        Options = options;
        MaxModelLen = options.ResolveMaxModelLen(model.Config);
        int blocks = options.ResolveNumBlocks(model.Config);
        // One linear-attention state slot per sequence; a model without linear layers keeps one unused slot.
        _hasLinearState = model.Config.LayerTypes.Contains(AttentionKind.Linear);
        _graphs = model.Backend as IStepGraphs;
        _state = new ModelState(model.Config, model.Backend, blocks, options.BlockSize, _hasLinearState ? options.MaxNumSeqs : 1);
        _scheduler = new Scheduler(blocks, options.BlockSize, options.MaxNumSeqs, options.MaxNumSeqs, options.MaxNumBatchedTokens);
        _eos = [.. eosTokenIds];
        _stats = Snapshot();
        _thread = new Thread(Loop) { IsBackground = true, Name = "fse-engine" };
        _thread.Start();
    }

    public EngineOptions Options { get; }
    public ModelConfig Config => _model.Config;
    public FseMode Fse => _model.Fse;
    public string Device => _model.Backend.Name;
    public int MaxModelLen { get; }
    public int NumBlocks => _scheduler.TotalBlocks;
    public IReadOnlyCollection<int> EosTokenIds => _eos;

    /// <summary>The latest snapshot, refreshed after every step and every change of the queues.</summary>
    public EngineStats Stats => _stats;

    public bool IsHealthy => !_dead;

    /// <summary>Fires on the engine thread after each step with the tokens it ran (keep handlers short).</summary>
    public event Action<int>? StepCompleted;

    /// <summary>Queues a request. Its outputs arrive on <see cref="EngineSequence.Outputs"/>.</summary>
    /// <exception cref="EngineRequestException">The request cannot be served as given.</exception>
    /// <exception cref="EngineUnavailableException">Admission has stopped or the engine died.</exception>
    /// <exception cref="EngineBusyException">The waiting queue is full.</exception>
    public EngineSequence Submit(EngineRequest request)
    {
        Validate(request);
        if (_dead) throw new EngineUnavailableException("The inference engine has stopped after an internal error.");
        if (!_accepting) throw new EngineUnavailableException("The server is shutting down and takes no new requests.");
        if (Options.MaxWaitingRequests is { } limit && Volatile.Read(ref _queued) >= limit)
            throw new EngineBusyException($"{limit} requests are already waiting; retry later.");
        var sampling = request.Sampling;
        var handle = new EngineSequence(Interlocked.Increment(ref _nextId), request, OnCancel);
        var seq = new Sequence(handle, new Sampler(sampling));
        _live[handle] = seq;
        Interlocked.Increment(ref _queued);
        _incoming.Enqueue(seq);
        _wake.Set();
        return handle;
    }

    /// <summary>Checks a request without submitting it (so a batch of prompts can be refused as a whole).</summary>
    /// <exception cref="EngineRequestException">The request cannot be served as given.</exception>
    public void Validate(EngineRequest r)
    {
        int n = r.PromptTokenIds.Count;
        if (n == 0) throw new EngineRequestException("The prompt is empty: at least one token is needed.", "prompt");
        int vocab = Config.VocabSize;
        foreach (var id in r.PromptTokenIds)
            if ((uint)id >= (uint)vocab)
                throw new EngineRequestException($"Token id {id} is outside the model's vocabulary (0 to {vocab - 1}).", "prompt");
        if (r.MaxTokens < 1) throw new EngineRequestException($"max_tokens must be at least 1, got {r.MaxTokens}.", "max_tokens");
        if (n >= MaxModelLen)
            throw new EngineRequestException(
                $"This model's maximum context length is {MaxModelLen} tokens. However, your prompt has {n} tokens, which leaves no room for a completion.", "prompt");
        if ((long)n + r.MaxTokens > MaxModelLen)
            throw new EngineRequestException(
                $"This model's maximum context length is {MaxModelLen} tokens. However, you requested {(long)n + r.MaxTokens} tokens ({n} in the prompt, {r.MaxTokens} in the completion). Please reduce the prompt or max_tokens.", "max_tokens");
        if (r.Logprobs is < 0 or > 20) throw new EngineRequestException($"logprobs must be between 0 and 20, got {r.Logprobs}.", "logprobs");
        if (r.PromptLogprobs is < 0 or > 20) throw new EngineRequestException($"logprobs must be between 0 and 20, got {r.PromptLogprobs}.", "logprobs");
        try { r.Sampling.Validate(); }
        catch (ArgumentOutOfRangeException e)
        {
            throw new EngineRequestException(e.Message.Split(Environment.NewLine)[0], e.ParamName == nameof(SamplingParams.TopP) ? "top_p" : "temperature");
        }
        foreach (var id in r.StopTokenIds)
            if ((uint)id >= (uint)vocab) throw new EngineRequestException($"Stop token id {id} is outside the model's vocabulary.", "stop_token_ids");
    }

    private void OnCancel(EngineSequence handle)
    {
        _cancelled.Enqueue(handle);
        _wake.Set();
    }

    /// <summary>New requests are refused (503) from now on; those already queued or running go on.</summary>
    public void StopAdmission()
    {
        _accepting = false;
        _wake.Set();   // the loop refreshes the snapshot
    }

    /// <summary>
    /// Stops admission, waits up to <paramref name="grace"/> for every queued and running sequence to finish, then
    /// aborts the rest. Returns how many were aborted.
    /// </summary>
    public async Task<int> DrainAsync(TimeSpan grace, CancellationToken ct = default)
    {
        StopAdmission();
        var deadline = Stopwatch.GetTimestamp() + (long)(grace.TotalSeconds * Stopwatch.Frequency);
        while (!_live.IsEmpty && !_dead && Stopwatch.GetTimestamp() < deadline && !ct.IsCancellationRequested)
        {
            try { await Task.Delay(20, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }
        int aborted = 0;
        foreach (var h in _live.Keys)
        {
            h.Cancel();
            aborted++;
        }
        // Let the engine thread free them.
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 5;
        while (!_live.IsEmpty && !_dead && Stopwatch.GetTimestamp() < until) await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
        return aborted;
    }

    private void Loop()
    {
        try
        {
            while (!_stopping)
            {
                TakeIncoming();
                TakeCancellations();
                if (_scheduler.RunningCount == 0 && _scheduler.WaitingCount == 0)
                {
                    _stats = Snapshot();
                    _wake.WaitOne(TimeSpan.FromMilliseconds(500));
                    continue;
                }
                var step = _scheduler.Schedule();
                if (step.Chunks.Count == 0)
                {
                    // Nothing fits this instant (cannot happen with validated options, but never spin).
                    _stats = Snapshot();
                    _wake.WaitOne(TimeSpan.FromMilliseconds(5));
                    continue;
                }
                Run(step);
                _stats = Snapshot();
            }
        }
        catch (Exception e)
        {
            _dead = true;
            _accepting = false;
            FailAll($"The inference engine stopped: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            _stats = Snapshot();
        }
    }

    private void TakeIncoming()
    {
        while (_incoming.TryDequeue(out var s))
        {
            if (s.Status == SequenceStatus.Finished) continue;   // cancelled before it got here
            _scheduler.Add(s);
        }
    }

    private void TakeCancellations()
    {
        while (_cancelled.TryDequeue(out var h))
        {
            if (_live.TryGetValue(h, out var s)) Finish(s, FinishReason.Abort, null);
        }
    }

    private void Run(ScheduledStep step)
    {
        var chunks = step.Chunks;
        int tokens = step.TokenCount, seqs = chunks.Count;
        var ids = new int[tokens];
        var seqStart = new int[seqs + 1];
        var positions = new int[tokens];
        var slots = new int[seqs];
        var reset = new bool[seqs];
        int maxBlocks = Options.StepTableWidth(chunks.Max(c => c.Sequence.Blocks.Count), Config);
        var table = new int[seqs * maxBlocks];
        var rows = new List<int>();
        var rowUse = new List<(int Chunk, int Position, bool Sample)>();
        int t = 0;
        for (int i = 0; i < seqs; i++)
        {
            var c = chunks[i];
            var s = c.Sequence;
            seqStart[i] = t;
            for (int p = c.Start; p < c.End; p++, t++)
            {
                ids[t] = s.Tokens[p];
                positions[t] = p;
            }
            slots[i] = _hasLinearState ? s.Slot : 0;
            reset[i] = c.Start == 0;
            for (int b = 0; b < s.Blocks.Count; b++) table[i * maxBlocks + b] = s.Blocks[b];
            if (s.Request.PromptLogprobs is not null)
            {
                int from = Math.Max(c.Start, s.NextPromptLogprob - 1), to = Math.Min(c.End, s.PromptLength - 1);
                for (int q = from; q < to; q++)
                {
                    rows.Add(seqStart[i] + q - c.Start);
                    rowUse.Add((i, q, false));
                }
            }
            if (c.Samples)
            {
                rows.Add(seqStart[i] + c.Count - 1);
                rowUse.Add((i, c.End - 1, true));
            }
            if (!s.Admitted)
            {
                s.Admitted = true;
                s.Handle.FirstScheduledAt = Stopwatch.GetTimestamp();
                Interlocked.Decrement(ref _queued);
                _promptTokens += s.PromptLength;
            }
        }
        seqStart[seqs] = t;

        int vocab = Config.VocabSize;
        // When every row only picks a greedy token without logprobs, the device takes the arg-max and returns ids.
        bool greedy = rowUse.TrueForAll(u => u.Sample && chunks[u.Chunk].Sequence is { Sampler.IsGreedy: true, Request.Logprobs: null });
        long need = greedy ? 0 : (long)rows.Count * vocab;
        if (_logits.Length < need) _logits = new float[need];
        var chosen = greedy ? new int[rows.Count] : [];
        try
        {
            var batch = new SequenceBatch(seqStart, positions, table, maxBlocks, Options.BlockSize, slots, reset);
            if (greedy) _model.ForwardGreedy(ids, batch, _state, rows.ToArray(), chosen);
            else _model.Forward(ids, batch, _state, rows.ToArray(), _logits);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _failedSteps++;
            _steps++;
            foreach (var c in chunks) Finish(c.Sequence, FinishReason.Error, $"The forward step failed: {e.Message}");
            return;
        }
        _steps++;

        var prompt = new List<(int, PositionLogprobs)>?[seqs];
        var sampled = new (int Token, PositionLogprobs? Logprobs)?[seqs];
        var drawn = greedy ? [] : Draw(rowUse, chunks, vocab);
        for (int r = 0; r < rowUse.Count; r++)
        {
            var (i, q, sample) = rowUse[r];
            var s = chunks[i].Sequence;
            if (greedy)
            {
                sampled[i] = (chosen[r], null);
                continue;
            }
            var row = _logits.AsSpan(r * vocab, vocab);
            if (!sample)
            {
                (prompt[i] ??= []).Add((q + 1, LogprobMath.Compute(row, s.Tokens[q + 1], s.Request.PromptLogprobs!.Value)));
                continue;
            }
            int token = drawn[r];
            var lp = s.Request.Logprobs is { } k ? LogprobMath.Compute(row, token, k) : null;
            sampled[i] = (token, lp);
        }
        for (int i = 0; i < seqs; i++)
        {
            var c = chunks[i];
            var s = c.Sequence;
            s.Computed = c.End;
            List<(int, PositionLogprobs)>? promptOut = null;
            if (prompt[i] is { } pl)
            {
                promptOut = pl.Where(x => x.Item1 >= s.NextPromptLogprob).ToList();
                if (promptOut.Count > 0) s.NextPromptLogprob = promptOut[^1].Item1 + 1;
            }
            if (sampled[i] is not { } next)
            {
                if (promptOut is { Count: > 0 }) s.Handle.Publish(new SequenceOutput { PromptLogprobs = promptOut });
                continue;
            }
            s.Tokens.Add(next.Token);
            s.Handle.GeneratedTokens = s.Generated;
            if (s.Generated == 1) s.Handle.FirstTokenAt = Stopwatch.GetTimestamp();
            _generationTokens++;
            FinishReason? finish = null;
            if (s.Request.StopTokenIds.Contains(next.Token) || !s.Request.IgnoreEos && _eos.Contains(next.Token)) finish = FinishReason.Stop;
            else if (s.Generated >= s.Request.MaxTokens || s.Tokens.Count >= MaxModelLen) finish = FinishReason.Length;
            var output = new SequenceOutput { PromptLogprobs = promptOut is { Count: > 0 } ? promptOut : null, TokenId = next.Token, Logprobs = next.Logprobs };
            if (finish is { } f) Finish(s, f, null, output: output);
            else s.Handle.Publish(output);
        }
        StepCompleted?.Invoke(tokens);
    }

    /// <summary>
    /// The token each sampling row draws from its logits (rows that only score the prompt get -1). Rows belong to
    /// different sequences, each with its own sampler and seed, so they draw on all cores at once: over a vocabulary
    /// of 151,936 a top-p draw costs the host ~0.4–1.7 ms (BENCHMARKS.md, "Host sampling").
    /// </summary>
    private int[] Draw(List<(int Chunk, int Position, bool Sample)> rowUse, IReadOnlyList<ScheduledChunk> chunks, int vocab)
    {
        var drawn = new int[rowUse.Count];
        var logits = _logits;
        void One(int r) => drawn[r] = rowUse[r].Sample ? chunks[rowUse[r].Chunk].Sequence.Sampler.Next(new ReadOnlySpan<float>(logits, r * vocab, vocab)) : -1;
        if (rowUse.Count(u => u.Sample) > 1) Parallel.For(0, rowUse.Count, One);
        else for (int r = 0; r < rowUse.Count; r++) One(r);
        return drawn;
    }

    private void Finish(Sequence s, FinishReason reason, string? error, SequenceOutput? output = null, bool removeFromScheduler = true)
    {
        if (!_live.TryRemove(s.Handle, out _)) return;
        if (removeFromScheduler && s.Status is SequenceStatus.Waiting or SequenceStatus.Running) _scheduler.Remove(s);
        s.Status = SequenceStatus.Finished;
        if (!s.Admitted) Interlocked.Decrement(ref _queued);
        s.Admitted = true;
        s.Handle.FinishedAt = Stopwatch.GetTimestamp();
        s.Handle.Finish = reason;
        s.Handle.Publish((output ?? new SequenceOutput()) with { Finish = reason, Error = error });
    }

    private void FailAll(string error)
    {
        while (_incoming.TryDequeue(out _)) { }
        // The scheduler may be inconsistent after a crash: only tell the callers.
        foreach (var (_, s) in _live) Finish(s, FinishReason.Error, error, removeFromScheduler: false);
    }

    private EngineStats Snapshot() => new()
    {
        Running = _scheduler.RunningCount,
        Waiting = Math.Max(0, Volatile.Read(ref _queued)) + _scheduler.PreemptedWaiting,
        UsedBlocks = _scheduler.UsedBlocks,
        TotalBlocks = _scheduler.TotalBlocks,
        UsedStateSlots = _hasLinearState ? _scheduler.UsedSlots : 0,
        TotalStateSlots = _hasLinearState ? _scheduler.TotalSlots : 0,
        PromptTokens = _promptTokens,
        GenerationTokens = _generationTokens,
        RecomputedTokens = _scheduler.RecomputedTokens,
        Preemptions = _scheduler.Preemptions,
        Steps = _steps,
        FailedSteps = _failedSteps,
        StepGraphsRecorded = _graphs?.StepGraphsRecorded ?? 0,
        StepGraphReplays = _graphs?.StepGraphReplays ?? 0,
        Healthy = !_dead,
        Accepting = _accepting && !_dead,
    };

    /// <summary>Aborts every sequence, stops the engine thread and frees the cache (the model stays with its owner).</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _accepting = false;
        foreach (var h in _live.Keys) h.Cancel();
        // One more pass of the loop publishes the aborts; then it stops.
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 5;
        while (!_live.IsEmpty && !_dead && _thread.IsAlive && Stopwatch.GetTimestamp() < until) Thread.Sleep(5);
        _stopping = true;
        _wake.Set();
        _thread.Join();
        FailAll("The engine was disposed.");
        _state.Dispose();
        _wake.Dispose();
    }
}
