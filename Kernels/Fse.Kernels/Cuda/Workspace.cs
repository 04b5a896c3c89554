using ILGPU;
using ILGPU.Runtime;

namespace Fse.Kernels.Cuda;

/// <summary>Which scratch buffer an op borrows; ops run one after another on one stream, so each may reuse its own slots.</summary>
internal enum Scratch
{
    ConvOut,
    SplitX,
    TermOut,
    WideWeights,
    MoeIndex,
    AttentionParts,
    MoeAct,
    MoeY,
    MoeSplitX,
    MoeC1,
    MoeSplitAct,
    MoeC2,
    MoePointers,
    AttentionScores,
    ArgMaxParts,
}

/// <summary>
/// Growable device scratch buffers, one per <see cref="Scratch"/> slot, kept between ops. A step graph's own workspace
/// (<paramref name="keepOutgrown"/>) keeps an outgrown buffer instead of synchronising to free it: nothing has run while
/// the graph records, and the recorded ops read the old buffer at every replay.
/// </summary>
internal sealed class Workspace(Accelerator acc, bool keepOutgrown = false) : IDisposable
{
    private readonly Dictionary<Scratch, MemoryBuffer1D<byte, Stride1D.Dense>> _buffers = [];
    private readonly List<MemoryBuffer1D<byte, Stride1D.Dense>> _outgrown = [];

    public ArrayView<T> Get<T>(Scratch slot, long count) where T : unmanaged
    {
        long bytes = Math.Max(256, (count * System.Runtime.CompilerServices.Unsafe.SizeOf<T>() + 255) & ~255L);
        if (!_buffers.TryGetValue(slot, out var buffer) || buffer.Length < bytes)
        {
            if (buffer is not null && keepOutgrown) _outgrown.Add(buffer);
            else if (buffer is not null)
            {
                acc.Synchronize();   // queued kernels may still read the old buffer
                buffer.Dispose();
            }
            buffer = acc.Allocate1D<byte>(buffer is null ? bytes : Math.Max(bytes, buffer.Length * 3 / 2));
            _buffers[slot] = buffer;
        }
        return ((ArrayView<byte>)buffer.View).SubView(0, bytes).Cast<T>().SubView(0, count);
    }

    public void Dispose()
    {
        foreach (var b in _buffers.Values.Concat(_outgrown)) b.Dispose();
        _buffers.Clear();
        _outgrown.Clear();
    }
}
