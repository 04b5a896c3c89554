using Fse.Kernels;
using Fse.Runtime.Checkpoints;

namespace Fse.Runtime.Models;

/// <summary>
/// Per-sequence memory of a model across steps: a paged KV cache for every full-attention layer
/// ([blocks·blockSize, kvHeads, headDim] keys and values) and, for every linear-attention layer, conv and
/// recurrent states in fixed slots. Which blocks and which slot a sequence owns is the caller's bookkeeping.
/// </summary>
public sealed class ModelState : IDisposable
{
    private readonly List<Tensor> _all = [];

    public ModelState(ModelConfig config, IBackend backend, int blocks, int blockSize, int stateSlots)
    {
        if (blocks < 1 || blockSize < 1 || stateSlots < 1) throw new ArgumentOutOfRangeException(nameof(blocks), "A model state needs at least one block and one slot.");
        Blocks = blocks;
        BlockSize = blockSize;
        StateSlots = stateSlots;
        Keys = new Tensor?[config.NumLayers];
        Values = new Tensor?[config.NumLayers];
        ConvStates = new Tensor?[config.NumLayers];
        RecurrentStates = new Tensor?[config.NumLayers];
        int channels = 2 * config.LinearNumKeyHeads * config.LinearKeyHeadDim + config.LinearNumValueHeads * config.LinearValueHeadDim;
        for (int i = 0; i < config.NumLayers; i++)
        {
            if (config.LayerTypes[i] == AttentionKind.Full)
            {
                Keys[i] = Own(backend.Allocate(DType.F32, blocks * blockSize, config.NumKvHeads, config.HeadDim));
                Values[i] = Own(backend.Allocate(DType.F32, blocks * blockSize, config.NumKvHeads, config.HeadDim));
            }
            else
            {
                ConvStates[i] = Own(backend.Allocate(DType.F32, stateSlots, channels, config.LinearConvKernelDim - 1));
                RecurrentStates[i] = Own(backend.Allocate(DType.F32, stateSlots, config.LinearNumValueHeads, config.LinearKeyHeadDim, config.LinearValueHeadDim));
            }
        }
    }

    public int Blocks { get; }
    public int BlockSize { get; }
    public int StateSlots { get; }
    internal Tensor?[] Keys { get; }
    internal Tensor?[] Values { get; }
    internal Tensor?[] ConvStates { get; }
    internal Tensor?[] RecurrentStates { get; }

    /// <summary>Bytes one KV block takes over all full-attention layers.</summary>
    public static long BytesPerBlock(ModelConfig c, int blockSize) =>
        2L * c.LayerTypes.Count(t => t == AttentionKind.Full) * blockSize * c.NumKvHeads * c.HeadDim * sizeof(float);

    /// <summary>Bytes one sequence's linear-attention state takes over all linear layers.</summary>
    public static long BytesPerStateSlot(ModelConfig c)
    {
        int linear = c.LayerTypes.Count(t => t == AttentionKind.Linear);
        long channels = 2L * c.LinearNumKeyHeads * c.LinearKeyHeadDim + (long)c.LinearNumValueHeads * c.LinearValueHeadDim;
        return linear * (channels * (c.LinearConvKernelDim - 1) + (long)c.LinearNumValueHeads * c.LinearKeyHeadDim * c.LinearValueHeadDim) * sizeof(float);
    }

    private Tensor Own(Tensor t)
    {
        _all.Add(t);
        return t;
    }

    public void Dispose()
    {
        foreach (var t in _all) t.Dispose();
        _all.Clear();
    }
}
