using Fse.Runtime.Checkpoints;
using Fse.Runtime.Models;

namespace Fse.Runtime.Serving;

/// <summary>The limits a <see cref="InferenceEngine"/> schedules under (vLLM's names where it has them).</summary>
public sealed record EngineOptions
{
    /// <summary>The most sequences in one step (vLLM <c>--max-num-seqs</c>); also the number of linear-attention state slots.</summary>
    public int MaxNumSeqs { get; init; } = 256;

    /// <summary>The longest sequence (prompt plus output) accepted; null takes the model's <c>max_position_embeddings</c>.</summary>
    public int? MaxModelLen { get; init; }

    /// <summary>The most tokens (decode tokens plus prefill chunks) in one step; a longer prompt is prefilled in chunks.</summary>
    public int MaxNumBatchedTokens { get; init; } = 2048;

    /// <summary>Tokens per KV-cache block.</summary>
    public int BlockSize { get; init; } = 16;

    /// <summary>KV-cache blocks to allocate; null derives them from <see cref="KvCacheBytes"/>.</summary>
    public int? NumBlocks { get; init; }

    /// <summary>
    /// Memory for the KV cache when <see cref="NumBlocks"/> is not given: as many blocks as fit, but no more than every
    /// sequence at full length needs, and never fewer than one full-length sequence needs.
    /// </summary>
    public long KvCacheBytes { get; init; } = 256L << 20;

    /// <summary>Requests that may wait for admission before new ones are refused (429); null for no limit.</summary>
    public int? MaxWaitingRequests { get; init; }

    /// <summary>The context length <see cref="MaxModelLen"/> gives for a model.</summary>
    public int ResolveMaxModelLen(ModelConfig config) => MaxModelLen ?? config.MaxPositionEmbeddings;

    public int BlocksPerSequence(ModelConfig config) => (ResolveMaxModelLen(config) + BlockSize - 1) / BlockSize;

    /// <summary>
    /// The block-table width of a step whose longest sequence holds <paramref name="blocks"/> blocks: rounded up to a power
    /// of two, at most <see cref="BlocksPerSequence"/> (never below <paramref name="blocks"/>). A recorded decode step is
    /// keyed by this width (its attention covers the table's capacity; partitions past a sequence's keys end at once), so one
    /// step graph serves a batch while its sequences double in length instead of a new one being recorded every block.
    /// </summary>
    public int StepTableWidth(int blocks, ModelConfig config)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(blocks);
        long pow2 = System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(blocks, 1));
        return (int)Math.Max(blocks, Math.Min(pow2, BlocksPerSequence(config)));
    }

    /// <summary>The KV-cache blocks the engine allocates for <paramref name="config"/>.</summary>
    public int ResolveNumBlocks(ModelConfig config)
    {
        if (NumBlocks is { } n) return n;
        long perSeq = BlocksPerSequence(config);
        long bytesPerBlock = Math.Max(1, ModelState.BytesPerBlock(config, BlockSize));
        long fit = KvCacheBytes / bytesPerBlock;
        long blocks = Math.Max(perSeq, Math.Min(fit, perSeq * MaxNumSeqs));
        return (int)Math.Min(blocks, int.MaxValue / Math.Max(1, BlockSize));
    }

    /// <summary>Throws <see cref="ArgumentException"/> for limits that cannot work with <paramref name="config"/>.</summary>
    public void Validate(ModelConfig config)
    {
        if (MaxNumSeqs < 1) throw new ArgumentOutOfRangeException(nameof(MaxNumSeqs), MaxNumSeqs, "max-num-seqs must be at least 1.");
        if (BlockSize < 1) throw new ArgumentOutOfRangeException(nameof(BlockSize), BlockSize, "The block size must be at least 1.");
        int len = ResolveMaxModelLen(config);
        if (len < 2) throw new ArgumentOutOfRangeException(nameof(MaxModelLen), len, "max-model-len must be at least 2.");
        if (MaxModelLen is { } m && m > config.MaxPositionEmbeddings)
            throw new ArgumentOutOfRangeException(nameof(MaxModelLen), m, $"max-model-len {m} exceeds the model's max_position_embeddings ({config.MaxPositionEmbeddings}).");
        if (MaxNumBatchedTokens < 1) throw new ArgumentOutOfRangeException(nameof(MaxNumBatchedTokens), MaxNumBatchedTokens, "max-num-batched-tokens must be at least 1.");
        if (NumBlocks is { } b && b < BlocksPerSequence(config))
            throw new ArgumentOutOfRangeException(nameof(NumBlocks), b, $"{b} KV-cache blocks cannot hold one sequence of max-model-len {len} ({BlocksPerSequence(config)} blocks of {BlockSize} tokens).");
        if (KvCacheBytes < 1) throw new ArgumentOutOfRangeException(nameof(KvCacheBytes), KvCacheBytes, "The KV-cache memory must be positive.");
        if (MaxWaitingRequests is < 0) throw new ArgumentOutOfRangeException(nameof(MaxWaitingRequests), MaxWaitingRequests, "The waiting limit cannot be negative.");
    }
}
