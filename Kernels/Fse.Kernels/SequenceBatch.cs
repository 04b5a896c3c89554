namespace Fse.Kernels;

/// <summary>
/// How one forward step's tokens are laid out over sequences: the same for every layer of the step. Tokens of
/// sequence <c>s</c> are rows <c>[SeqStart[s], SeqStart[s+1])</c> of every activation. Full-attention layers
/// find each sequence's keys and values through its block table in a paged cache; linear-attention layers
/// find its recurrent state through its state slot.
/// </summary>
public sealed class SequenceBatch
{
    public SequenceBatch(int[] seqStart, int[] positions, int[] blockTable, int maxBlocksPerSeq, int blockSize, int[] stateSlot, bool[] resetState)
    {
        int s = seqStart.Length - 1;
        if (s < 0 || seqStart[0] != 0) throw new ArgumentException("seqStart must start at 0 and have one more entry than sequences.", nameof(seqStart));
        for (int i = 0; i < s; i++)
            if (seqStart[i + 1] <= seqStart[i]) throw new ArgumentException($"Sequence {i} has no tokens in this step.", nameof(seqStart));
        if (positions.Length != seqStart[s]) throw new ArgumentException("One position per token is needed.", nameof(positions));
        if (stateSlot.Length != s || resetState.Length != s) throw new ArgumentException("One state slot and reset flag per sequence is needed.");
        if (blockTable.Length != s * maxBlocksPerSeq) throw new ArgumentException("The block table must be sequences × maxBlocksPerSeq.", nameof(blockTable));
        SeqStart = seqStart;
        Positions = positions;
        BlockTable = blockTable;
        MaxBlocksPerSeq = maxBlocksPerSeq;
        BlockSize = blockSize;
        StateSlot = stateSlot;
        ResetState = resetState;
        SlotMapping = new int[positions.Length];
        for (int q = 0; q < s; q++)
        {
            for (int t = seqStart[q]; t < seqStart[q + 1]; t++)
            {
                int p = positions[t];
                if (p < 0 || p / blockSize >= maxBlocksPerSeq)
                    throw new ArgumentException($"Position {p} of sequence {q} lies beyond its {maxBlocksPerSeq} blocks.", nameof(positions));
                if (t > seqStart[q] && p != positions[t - 1] + 1)
                    throw new ArgumentException($"Positions of sequence {q} must be consecutive.", nameof(positions));
                SlotMapping[t] = blockTable[q * maxBlocksPerSeq + p / blockSize] * blockSize + p % blockSize;
            }
        }
    }

    public int SequenceCount => SeqStart.Length - 1;
    public int TokenCount => Positions.Length;
    public int[] SeqStart { get; }
    public int[] Positions { get; }
    public int[] BlockTable { get; }
    public int MaxBlocksPerSeq { get; }
    public int BlockSize { get; }

    /// <summary>Cache slot (block·size + offset) where each token's key and value are written.</summary>
    public int[] SlotMapping { get; }

    /// <summary>Linear-attention state slot of each sequence.</summary>
    public int[] StateSlot { get; }

    /// <summary>Whether each sequence starts from an empty state in this step (its first chunk).</summary>
    public bool[] ResetState { get; }

    /// <summary>A backend's device copies of this batch's tables, made once per step.</summary>
    public object? DeviceState { get; set; }

    /// <summary>A batch of one sequence occupying contiguous blocks 0..n-1 (single-stream generation and tests).</summary>
    public static SequenceBatch Single(int startPosition, int tokenCount, int blockSize, int blocks, int stateSlot = 0) =>
        new([0, tokenCount], [.. Enumerable.Range(startPosition, tokenCount)], [.. Enumerable.Range(0, blocks)], blocks, blockSize, [stateSlot], [startPosition == 0]);
}
