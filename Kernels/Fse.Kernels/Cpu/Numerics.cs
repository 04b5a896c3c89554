using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Fse.Kernels.Cpu;

/// <summary>Scalar helpers shared by the CPU kernels.</summary>
internal static class Numerics
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Silu(float x) => x / (1f + MathF.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Softplus(float x) => x > 20f ? x : MathF.Log(1f + MathF.Exp(x));

    /// <summary>Numerically stable softmax (max subtracted first), in place.</summary>
    public static void SoftmaxInPlace(Span<float> x)
    {
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, x);
        TensorPrimitives.Exp(x, x);
        float sum = TensorPrimitives.Sum(x);
        TensorPrimitives.Divide(x, sum, x);
    }

    /// <summary>Widens a row of 16-bit floats to F32.</summary>
    public static void Widen(ReadOnlySpan<ushort> src, DType dtype, Span<float> dst)
    {
        if (dtype == DType.BF16)
        {
            for (int i = 0; i < src.Length; i++) dst[i] = BitConverter.Int32BitsToSingle(src[i] << 16);
        }
        else
        {
            TensorPrimitives.ConvertToSingle(System.Runtime.InteropServices.MemoryMarshal.Cast<ushort, Half>(src), dst);
        }
    }
}
