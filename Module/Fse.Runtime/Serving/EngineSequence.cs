using System.Diagnostics;
using System.Threading.Channels;

namespace Fse.Runtime.Serving;

/// <summary>
/// A submitted request as its caller sees it: the outputs the engine publishes step by step, cancellation, and
/// timings. The outputs end with one carrying <see cref="SequenceOutput.Finish"/>; then the channel completes.
/// </summary>
public sealed class EngineSequence
{
    private readonly Channel<SequenceOutput> _outputs = Channel.CreateUnbounded<SequenceOutput>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true });
    private readonly Action<EngineSequence> _cancel;
    private int _cancelled;

    internal EngineSequence(long id, EngineRequest request, Action<EngineSequence> cancel)
    {
        Id = id;
        Request = request;
        _cancel = cancel;
        ArrivedAt = Stopwatch.GetTimestamp();
    }

    public long Id { get; }

    public EngineRequest Request { get; }

    public ChannelReader<SequenceOutput> Outputs => _outputs.Reader;

    /// <summary>Stopwatch ticks of submission.</summary>
    public long ArrivedAt { get; }

    /// <summary>Stopwatch ticks when the sequence was first admitted into a step; 0 before.</summary>
    public long FirstScheduledAt { get; internal set; }

    /// <summary>Stopwatch ticks of the first generated token; 0 before.</summary>
    public long FirstTokenAt { get; internal set; }

    /// <summary>Stopwatch ticks of the end; 0 before.</summary>
    public long FinishedAt { get; internal set; }

    /// <summary>How often it was preempted (and its cache recomputed).</summary>
    public int Preemptions { get; internal set; }

    /// <summary>Tokens generated so far.</summary>
    public int GeneratedTokens { get; internal set; }

    /// <summary>Set once the sequence ended.</summary>
    public FinishReason? Finish { get; internal set; }

    /// <summary>
    /// Ends the sequence early (a client went away, or a stop string matched): the engine frees its KV-cache blocks and
    /// state slot before its next step and publishes a final output with <see cref="FinishReason.Abort"/>. Idempotent.
    /// </summary>
    public void Cancel()
    {
        if (Interlocked.Exchange(ref _cancelled, 1) == 0) _cancel(this);
    }

    internal bool CancelRequested => Volatile.Read(ref _cancelled) != 0;

    internal void Publish(SequenceOutput output)
    {
        _outputs.Writer.TryWrite(output);
        if (output.Finish is not null) _outputs.Writer.TryComplete();
    }

    /// <summary>Reads every output to the end: the generated ids, the finish reason, and the log probabilities asked for.</summary>
    public async Task<SequenceResult> ReadAllAsync(CancellationToken ct = default)
    {
        var tokens = new List<int>();
        var logprobs = new List<PositionLogprobs>();
        var prompt = new SortedDictionary<int, PositionLogprobs>();
        FinishReason finish = FinishReason.Abort;
        string? error = null;
        await foreach (var o in Outputs.ReadAllAsync(ct).ConfigureAwait(false))
        {
            if (o.PromptLogprobs is { } pl)
                foreach (var (pos, lp) in pl) prompt[pos] = lp;
            if (o.TokenId is { } t)
            {
                tokens.Add(t);
                if (o.Logprobs is { } l) logprobs.Add(l);
            }
            if (o.Finish is { } f)
            {
                finish = f;
                error = o.Error;
            }
        }
        return new SequenceResult(tokens, finish, error, logprobs, prompt.Values.ToList());
    }
}

/// <summary>Everything a sequence produced (see <see cref="EngineSequence.ReadAllAsync"/>).</summary>
/// <param name="PromptLogprobs">Prompt positions 1, 2, ... in order (position 0 has none).</param>
public sealed record SequenceResult(IReadOnlyList<int> TokenIds, FinishReason Finish, string? Error,
    IReadOnlyList<PositionLogprobs> Logprobs, IReadOnlyList<PositionLogprobs> PromptLogprobs);
