using Fse.Runtime.Inference;

namespace Fse.Runtime.Serving;

internal enum SequenceStatus
{
    /// <summary>Submitted, not yet handed to the scheduler.</summary>
    Incoming,
    Waiting,
    Running,
    Finished,
}

/// <summary>The engine thread's state of one request: its tokens, how many have their cache computed, its blocks and slot.</summary>
internal sealed class Sequence(EngineSequence handle, Sampler sampler)
{
    public EngineSequence Handle { get; } = handle;
    public EngineRequest Request => Handle.Request;
    public Sampler Sampler { get; } = sampler;

    /// <summary>Prompt then generated tokens.</summary>
    public List<int> Tokens { get; } = [.. handle.Request.PromptTokenIds];

    public int PromptLength => Request.PromptTokenIds.Count;
    public int Generated => Tokens.Count - PromptLength;

    /// <summary>Leading tokens whose keys, values and linear state are in the cache.</summary>
    public int Computed { get; set; }

    /// <summary>Tokens still to be run through the model before the next token can be sampled.</summary>
    public int Remaining => Tokens.Count - Computed;

    /// <summary>KV-cache blocks in position order.</summary>
    public List<int> Blocks { get; } = [];

    /// <summary>Linear-attention state slot, or -1.</summary>
    public int Slot { get; set; } = -1;

    /// <summary>The next prompt position whose log probability is still to be published.</summary>
    public int NextPromptLogprob { get; set; } = 1;

    public SequenceStatus Status { get; set; } = SequenceStatus.Incoming;

    /// <summary>Whether the prompt was ever admitted (its tokens counted once).</summary>
    public bool Admitted { get; set; }

    public bool WantsPromptLogprobs => Request.PromptLogprobs is not null && NextPromptLogprob < PromptLength;

    public override string ToString() => $"seq {Handle.Id} ({Computed}/{Tokens.Count}, {Status})";
}
