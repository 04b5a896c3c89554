using Fse.Kernels.Cuda.Device;
using ILGPU;
using ILGPU.Runtime;

namespace Fse.Kernels.Cuda;

/// <summary>
/// A tensor in accelerator memory: a buffer it owns (sized up to a multiple of 16 bytes so 128-bit loads of the last
/// row stay inside it; rented from the backend's pool and returned on dispose) or a view of its parent's.
/// </summary>
public sealed class CudaTensor : Tensor
{
    private MemoryBuffer1D<byte, Stride1D.Dense>? _owned;
    private readonly CudaTensor? _parent;

    private CudaTensor(CudaBackend backend, DType dtype, int[] shape, ArrayView<byte> view, MemoryBuffer1D<byte, Stride1D.Dense>? owned, CudaTensor? parent)
        : base(dtype, shape)
    {
        Backend = backend;
        View = view;
        _owned = owned;
        _parent = parent;
    }

    internal CudaBackend Backend { get; }

    /// <summary>The tensor's bytes (exactly ElementCount · element size).</summary>
    public ArrayView<byte> View { get; }


    /// <summary>A tensor in a pooled buffer, or with <paramref name="exact"/> (weights) in one of its own exact size.</summary>
    internal static CudaTensor Allocate(CudaBackend backend, BufferPool pool, DType dtype, int[] shape, bool exact = false)
    {
        long bytes = Count(shape) * dtype.Size(), size = Math.Max(16, (bytes + 15) & ~15L);
        var buffer = exact ? pool.Exact(size) : pool.Rent(size);
        return new CudaTensor(backend, dtype, shape, buffer.View.SubView(0, bytes), buffer, null);
    }

    public ArrayView<float> F32 => DType == DType.F32 ? View.Cast<float>() : throw Wrong(DType.F32);

    public ArrayView<int> I32 => DType == DType.I32 ? View.Cast<int>() : throw Wrong(DType.I32);

    /// <summary>Whether the data starts on a 16-byte boundary (buffers are 256-byte aligned; views may not be).</summary>
    internal bool Aligned16 => ((IContiguousArrayView)View).IndexInBytes % 16 == 0;

    /// <summary>The data as 16-byte units for 128-bit loads (empty unless <see cref="Aligned16"/>).</summary>
    internal ArrayView<U4> Vec => Aligned16 && View.Length >= 16 ? View.SubView(0, View.Length & ~15L).Cast<U4>() : default;

    /// <summary>The device address of the first element (for cuBLAS).</summary>
    internal nint DevicePointer => CudaBackend.Pointer(View);

    public override Tensor Slice(int start, int count)
    {
        var shape = SlicedShape(start, count);
        long rowBytes = ElementCount / Shape[0] * DType.Size();
        return new CudaTensor(Backend, DType, shape, View.SubView(start * rowBytes, count * rowBytes), null, this);
    }

    public override Tensor Reshape(params int[] shape)
    {
        CheckReshape(shape);
        return new CudaTensor(Backend, DType, shape, View, null, this);
    }

    public override void Dispose()
    {
        if (_owned is not null) Backend.Release(_owned);
        _owned = null;
        GC.KeepAlive(_parent);
    }

    private InvalidOperationException Wrong(DType wanted) => new($"Expected a {wanted} tensor, got {this}.");
}
