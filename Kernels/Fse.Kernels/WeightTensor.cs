namespace Fse.Kernels;

/// <summary>
/// A weight as its source holds it: bytes in host memory (a checkpoint), or a <see cref="RandomMatrix"/> that a backend
/// draws in its own memory (a preset). <see cref="Shape"/> is the tensor's shape; a random one is its
/// [product of leading dims, last dim] matrix.
/// </summary>
public readonly struct WeightTensor
{
    public WeightTensor(HostTensor host)
    {
        Host = host;
        Random = null;
        Shape = host.Shape;
    }

    public WeightTensor(RandomMatrix random, int[]? shape = null)
    {
        shape ??= [random.Rows, random.Cols];
        if (shape.Length < 1 || shape[^1] != random.Cols || Tensor.Count(shape) != random.ElementCount)
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] does not hold a [{random.Rows}, {random.Cols}] random matrix.", nameof(shape));
        Host = default;
        Random = random;
        Shape = shape;
    }

    /// <summary>The host bytes (when <see cref="Random"/> is null).</summary>
    public HostTensor Host { get; }

    /// <summary>The draw a backend makes, or null for host bytes.</summary>
    public RandomMatrix? Random { get; }

    public int[] Shape { get; }

    public DType DType => Random?.DType ?? Host.DType;

    public long ElementCount => Tensor.Count(Shape);

    public static implicit operator WeightTensor(HostTensor host) => new(host);

    public static implicit operator WeightTensor(RandomMatrix random) => new(random);

    public override string ToString() => Random is { } r ? $"{r} as [{string.Join(", ", Shape)}]" : Host.ToString();
}
