using System.Runtime.InteropServices;
using Fse.Kernels;

namespace Fse.Runtime.Weights;

/// <summary>A tensor's worth of native memory that the weight plan fills (permuted rows, fused gates, FSE slots).</summary>
public sealed unsafe class HostBuffer : IDisposable
{
    private void* _data;

    public HostBuffer(DType dtype, params int[] shape)
    {
        DType = dtype;
        Shape = shape;
        long bytes = Tensor.Count(shape) * dtype.Size();
        _data = NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 64), 64);
        NativeMemory.Clear(_data, (nuint)bytes);
        ByteLength = bytes;
    }

    public DType DType { get; }
    public int[] Shape { get; }
    public long ByteLength { get; }

    public Span<byte> Bytes => new(_data, checked((int)ByteLength));

    public HostTensor AsTensor() => new(DType, Shape, _data);

    public void Dispose()
    {
        if (_data is not null)
        {
            NativeMemory.AlignedFree(_data);
            _data = null;
        }
    }
}
