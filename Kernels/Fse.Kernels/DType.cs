namespace Fse.Kernels;

/// <summary>Element types of tensors: weights keep their checkpoint type, activations are F32, indices I32.</summary>
public enum DType : byte
{
    F32,
    F16,
    BF16,
    I32,
}

public static class DTypeExtensions
{
    public static int Size(this DType t) => t switch
    {
        DType.F32 or DType.I32 => 4,
        DType.F16 or DType.BF16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };
}
