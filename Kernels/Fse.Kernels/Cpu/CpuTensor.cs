using System.Runtime.InteropServices;

namespace Fse.Kernels.Cpu;

/// <summary>A tensor in host memory: native memory it owns, a view into another tensor, or a zero-copy view of a host buffer.</summary>
public sealed unsafe class CpuTensor : Tensor
{
    private readonly CpuTensor? _parent;
    private void* _owned;

    private CpuTensor(DType dtype, int[] shape, void* data, void* owned, CpuTensor? parent) : base(dtype, shape)
    {
        Data = data;
        _owned = owned;
        _parent = parent;
    }

    public void* Data { get; }

    internal static CpuTensor Allocate(DType dtype, int[] shape)
    {
        long bytes = Count(shape) * dtype.Size();
        void* p = NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 64), 64);
        NativeMemory.Clear(p, (nuint)bytes);
        return new CpuTensor(dtype, shape, p, p, null);
    }

    /// <summary>A view of memory owned elsewhere (a memory-mapped checkpoint); the owner keeps it alive.</summary>
    internal static CpuTensor View(HostTensor host) => new(host.DType, host.Shape, (void*)host.Data, null, null);

    public Span<float> F32 => DType == DType.F32 ? new Span<float>(Data, checked((int)ElementCount)) : throw Wrong(DType.F32);

    public Span<int> I32 => DType == DType.I32 ? new Span<int>(Data, checked((int)ElementCount)) : throw Wrong(DType.I32);

    public Span<ushort> U16 => DType is DType.BF16 or DType.F16 ? new Span<ushort>(Data, checked((int)ElementCount)) : throw Wrong(DType.BF16);

    public override Tensor Slice(int start, int count)
    {
        var shape = SlicedShape(start, count);
        long rowElements = ElementCount / Shape[0];
        return new CpuTensor(DType, shape, (byte*)Data + start * rowElements * DType.Size(), null, this);
    }

    public override Tensor Reshape(params int[] shape)
    {
        CheckReshape(shape);
        return new CpuTensor(DType, shape, Data, null, this);
    }

    public override void Dispose()
    {
        if (_owned is not null)
        {
            NativeMemory.AlignedFree(_owned);
            _owned = null;
        }
        GC.KeepAlive(_parent);
    }

    private InvalidOperationException Wrong(DType wanted) => new($"Expected a {wanted} tensor, got {this}.");
}
