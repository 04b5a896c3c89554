namespace Fse.Kernels;

/// <summary>
/// A dense row-major tensor owned by one backend. Views (<see cref="Slice"/>) share the memory of their parent.
/// Kernels take tensors of the backend that made them and check shapes, never model names.
/// </summary>
public abstract class Tensor : IDisposable
{
    protected Tensor(DType dtype, int[] shape)
    {
        DType = dtype;
        Shape = shape;
        ElementCount = Count(shape);
    }

    public DType DType { get; }
    public int[] Shape { get; }
    public long ElementCount { get; }
    public int Rank => Shape.Length;

    /// <summary>Size of dimension <paramref name="i"/>; negative counts from the end.</summary>
    public int Dim(int i) => Shape[i < 0 ? Shape.Length + i : i];

    /// <summary>Rows when viewed as a matrix whose row is the last dimension.</summary>
    public long Rows => Shape.Length == 0 ? 1 : ElementCount / Shape[^1];

    /// <summary>A view of <paramref name="count"/> consecutive entries along dimension 0, starting at <paramref name="start"/>.</summary>
    public abstract Tensor Slice(int start, int count);

    /// <summary>The same memory with another shape of the same element count.</summary>
    public abstract Tensor Reshape(params int[] shape);

    public abstract void Dispose();

    public static long Count(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }

    protected int[] SlicedShape(int start, int count)
    {
        if (Shape.Length == 0 || start < 0 || count < 0 || start + count > Shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice [{start}, {start + count}) of {this}.");
        var s = (int[])Shape.Clone();
        s[0] = count;
        return s;
    }

    protected void CheckReshape(int[] shape)
    {
        if (Count(shape) != ElementCount)
            throw new ArgumentException($"Cannot reshape {this} to [{string.Join(", ", shape)}].");
    }

    public override string ToString() => $"{DType}[{string.Join(", ", Shape)}]";
}
