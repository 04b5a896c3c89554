namespace Fse.Runtime.Checkpoints;

/// <summary>A tensor's dimensions, compared by value, printed as <c>[2048, 151936]</c>.</summary>
public sealed class TensorShape : IEquatable<TensorShape>
{
    private readonly long[] _dims;

    public TensorShape(params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        long count = 1;
        foreach (var d in dims)
        {
            if (d < 0) throw new ArgumentOutOfRangeException(nameof(dims), $"Dimension {d} is negative.");
            count = checked(count * d);
        }
        _dims = (long[])dims.Clone();
        ElementCount = count;
    }

    public TensorShape(params int[] dims) : this(Array.ConvertAll(dims, d => (long)d)) { }

    /// <summary>The shape of a 0-dimensional tensor (one element).</summary>
    public static TensorShape Scalar { get; } = new(Array.Empty<long>());

    public IReadOnlyList<long> Dims => _dims;

    public int Rank => _dims.Length;

    public long this[int i] => _dims[i];

    /// <summary>Product of the dimensions (1 for a scalar).</summary>
    public long ElementCount { get; }

    public bool Equals(TensorShape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);

    public override bool Equals(object? obj) => Equals(obj as TensorShape);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in _dims) h.Add(d);
        return h.ToHashCode();
    }

    public override string ToString() => "[" + string.Join(", ", _dims) + "]";

    public static bool operator ==(TensorShape? a, TensorShape? b) => a is null ? b is null : a.Equals(b);

    public static bool operator !=(TensorShape? a, TensorShape? b) => !(a == b);
}
