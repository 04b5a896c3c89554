namespace Fse.Kernels;

/// <summary>
/// A read-only view of tensor data in host memory (a memory-mapped checkpoint or a native buffer) that a
/// backend turns into a device <see cref="Tensor"/>. The owner of the memory keeps it alive.
/// </summary>
public readonly unsafe struct HostTensor
{
    public HostTensor(DType dtype, int[] shape, void* data)
    {
        DType = dtype;
        Shape = shape;
        Data = (nint)data;
    }

    public DType DType { get; }
    public int[] Shape { get; }
    public nint Data { get; }
    public long ElementCount => Tensor.Count(Shape);
    public long ByteLength => ElementCount * DType.Size();

    public ReadOnlySpan<byte> Bytes => new((void*)Data, checked((int)ByteLength));

    public override string ToString() => $"{DType}[{string.Join(", ", Shape)}]";
}
