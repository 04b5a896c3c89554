namespace Fse.Runtime.Serving;

/// <summary>A slice of one sequence's tokens that a step runs through the model.</summary>
/// <param name="Start">The first position (tokens before it are in the cache).</param>
/// <param name="Count">How many tokens.</param>
internal readonly record struct ScheduledChunk(Sequence Sequence, int Start, int Count)
{
    public int End => Start + Count;

    /// <summary>Whether the step ends at the sequence's last token, so the next token is sampled from its logits.</summary>
    public bool Samples => End == Sequence.Tokens.Count;
}

/// <summary>What one step runs, and who was preempted to make room.</summary>
internal sealed record ScheduledStep(IReadOnlyList<ScheduledChunk> Chunks, IReadOnlyList<Sequence> Preempted)
{
    public int TokenCount => Chunks.Sum(c => c.Count);
}

/// <summary>
/// Continuous batching: which sequences run in the next step and how many tokens each. Every step takes, under the
/// token budget and in arrival order, (1) one decode token of each running sequence whose prompt is in the cache,
/// (2) the next prefill chunk of running sequences still prefilling, (3) the first chunk of waiting sequences while a
/// sequence slot, a state slot and the blocks of that chunk are free. When a running sequence needs a block and none
/// is free, the most recently arrived running sequence not yet in the step is preempted: its blocks and slot are
/// freed, its progress forgotten (recompute), and it goes back to the front of the queue with its prompt and every
/// token generated so far. No sequence is admitted in a step that preempted. Not thread-safe: the engine thread owns it.
/// </summary>
internal sealed class Scheduler
{
    private readonly List<Sequence> _running = [];
    private readonly LinkedList<Sequence> _waiting = new();
    private readonly BlockAllocator _blocks;
    private readonly BlockAllocator _slots;
    private readonly int _blockSize;
    private readonly int _maxNumSeqs;
    private readonly int _tokenBudget;
    private readonly int _promptLogprobRows;

    public Scheduler(int numBlocks, int blockSize, int stateSlots, int maxNumSeqs, int maxNumBatchedTokens, int promptLogprobRows = 512)
    {
        _blocks = new BlockAllocator(numBlocks);
        _slots = new BlockAllocator(stateSlots);
        _blockSize = blockSize;
        _maxNumSeqs = maxNumSeqs;
        _tokenBudget = maxNumBatchedTokens;
        _promptLogprobRows = promptLogprobRows;
    }

    public int RunningCount => _running.Count;
    public int WaitingCount => _waiting.Count;
    public int UsedBlocks => _blocks.UsedCount;
    public int TotalBlocks => _blocks.Capacity;
    public int UsedSlots => _slots.UsedCount;
    public int TotalSlots => _slots.Capacity;
    public long Preemptions { get; private set; }

    /// <summary>Cached tokens thrown away by preemption (to be recomputed).</summary>
    public long RecomputedTokens { get; private set; }

    /// <summary>Preempted sequences waiting for readmission.</summary>
    public int PreemptedWaiting => _waiting.Count(s => s.Admitted);
    public IReadOnlyList<Sequence> Running => _running;
    public IEnumerable<Sequence> Waiting => _waiting;

    public void Add(Sequence s)
    {
        s.Status = SequenceStatus.Waiting;
        _waiting.AddLast(s);
    }

    /// <summary>Takes a sequence out (finished or cancelled) and frees what it holds.</summary>
    public void Remove(Sequence s)
    {
        if (s.Status == SequenceStatus.Running) _running.Remove(s);
        else if (s.Status == SequenceStatus.Waiting) _waiting.Remove(s);
        Release(s);
        s.Status = SequenceStatus.Finished;
    }

    public ScheduledStep Schedule()
    {
        var chunks = new List<ScheduledChunk>();
        var inStep = new HashSet<Sequence>();
        var preempted = new List<Sequence>();
        int budget = _tokenBudget, extraRows = _promptLogprobRows;

        // (1) decode tokens, then (2) prefill chunks of running sequences, both in arrival order.
        foreach (bool decodes in (bool[])[true, false])
        {
            foreach (var s in _running.ToArray())
            {
                if (budget <= 0) break;
                if (s.Status != SequenceStatus.Running || inStep.Contains(s) || (s.Remaining == 1) != decodes) continue;
                int want = Math.Min(s.Remaining, budget);
                if (s.WantsPromptLogprobs) want = Math.Min(want, Math.Max(1, extraRows));
                int count = Reserve(s, want, inStep, preempted, mayShrink: !decodes);
                if (count == 0 || s.Status != SequenceStatus.Running) continue;
                Take(s, count, chunks, inStep, ref budget, ref extraRows);
            }
        }

        // (3) admissions, first come first served, only when nobody was preempted for room.
        while (preempted.Count == 0 && budget > 0 && _waiting.First is { } node && _running.Count < _maxNumSeqs && _slots.FreeCount > 0)
        {
            var s = node.Value;
            int want = Math.Min(s.Remaining, budget);
            if (s.WantsPromptLogprobs) want = Math.Min(want, Math.Max(1, extraRows));
            int need = BlocksFor(s.Computed + want) - s.Blocks.Count;
            if (need > _blocks.FreeCount) break;
            _waiting.RemoveFirst();
            s.Slot = _slots.Allocate();
            for (int b = 0; b < need; b++) s.Blocks.Add(_blocks.Allocate());
            s.Status = SequenceStatus.Running;
            InsertRunning(s);
            Take(s, want, chunks, inStep, ref budget, ref extraRows);
        }
        return new ScheduledStep(chunks, preempted);
    }

    private void Take(Sequence s, int count, List<ScheduledChunk> chunks, HashSet<Sequence> inStep, ref int budget, ref int extraRows)
    {
        var chunk = new ScheduledChunk(s, s.Computed, count);
        chunks.Add(chunk);
        inStep.Add(s);
        budget -= count;
        if (s.WantsPromptLogprobs) extraRows -= PromptLogprobRows(chunk);
    }

    /// <summary>Prompt positions whose log probability a chunk's logits give: position q's logits score prompt token q+1.</summary>
    public static int PromptLogprobRows(ScheduledChunk c)
    {
        var s = c.Sequence;
        if (s.Request.PromptLogprobs is null) return 0;
        int from = Math.Max(c.Start, s.NextPromptLogprob - 1), to = Math.Min(c.End, s.PromptLength - 1);
        return Math.Max(0, to - from);
    }

    /// <summary>
    /// Gives <paramref name="s"/> the blocks for <paramref name="want"/> more tokens, preempting later arrivals not in the
    /// step when none are free. Returns the tokens it may run (fewer when <paramref name="mayShrink"/>, 0 when none).
    /// </summary>
    private int Reserve(Sequence s, int want, HashSet<Sequence> inStep, List<Sequence> preempted, bool mayShrink)
    {
        while (true)
        {
            int need = BlocksFor(s.Computed + want) - s.Blocks.Count;
            if (need <= _blocks.FreeCount)
            {
                for (int b = 0; b < need; b++) s.Blocks.Add(_blocks.Allocate());
                return want;
            }
            var victim = _running.LastOrDefault(r => !inStep.Contains(r) && r != s);
            if (victim is not null)
            {
                Preempt(victim, preempted);
                continue;
            }
            if (mayShrink)
            {
                int fit = (s.Blocks.Count + _blocks.FreeCount) * _blockSize - s.Computed;
                if (fit > 0) return Reserve(s, Math.Min(fit, want), inStep, preempted, mayShrink: false);
                return 0;
            }
            Preempt(s, preempted);
            return 0;
        }
    }

    private void Preempt(Sequence s, List<Sequence> preempted)
    {
        _running.Remove(s);
        Release(s);
        RecomputedTokens += s.Computed;
        s.Computed = 0;
        s.Status = SequenceStatus.Waiting;
        s.Handle.Preemptions++;
        Preemptions++;
        preempted.Add(s);
        // Back to the front, ahead of later arrivals: the waiting queue stays in arrival order.
        var after = _waiting.First;
        while (after is not null && after.Value.Handle.Id < s.Handle.Id) after = after.Next;
        if (after is null) _waiting.AddLast(s);
        else _waiting.AddBefore(after, s);
    }

    /// <summary>Keeps the running list in arrival (id) order, so decode order and preemption victims follow arrival.</summary>
    private void InsertRunning(Sequence s)
    {
        int i = _running.Count;
        while (i > 0 && _running[i - 1].Handle.Id > s.Handle.Id) i--;
        _running.Insert(i, s);
    }

    private void Release(Sequence s)
    {
        _blocks.Free(s.Blocks);
        if (s.Slot >= 0) _slots.Free(s.Slot);
        s.Slot = -1;
    }

    private int BlocksFor(int tokens) => (tokens + _blockSize - 1) / _blockSize;
}
