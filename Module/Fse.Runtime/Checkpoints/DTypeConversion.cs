using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Fse.Runtime.Checkpoints;

/// <summary>
/// Element conversions between the checkpoint dtypes and float32. BF16 is the top half of a float32
/// (widening is a 16-bit shift; narrowing rounds to nearest, ties to even, NaN stays NaN); F16 is <see cref="Half"/>.
/// </summary>
public static class DTypeConversion
{
    /// <summary>Widens <paramref name="source"/> (raw little-endian elements of <paramref name="dtype"/>) into <paramref name="destination"/>.</summary>
    public static void ToFloat32(ReadOnlySpan<byte> source, SafetensorsDType dtype, Span<float> destination)
    {
        int count = source.Length / dtype.BytesPerElement();
        if (source.Length % dtype.BytesPerElement() != 0)
            throw new ArgumentException($"{source.Length} bytes is not a whole number of {dtype.HeaderName()} elements.", nameof(source));
        if (destination.Length < count)
            throw new ArgumentException($"The destination holds {destination.Length} floats; {count} are needed.", nameof(destination));
        switch (dtype)
        {
            case SafetensorsDType.F32:
                MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
                break;
            case SafetensorsDType.F16:
                TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(source), destination);
                break;
            case SafetensorsDType.BF16:
                BFloat16ToFloat32(MemoryMarshal.Cast<byte, ushort>(source), destination);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype));
        }
    }

    /// <summary>Narrows <paramref name="source"/> into raw little-endian elements of <paramref name="dtype"/>.</summary>
    public static void FromFloat32(ReadOnlySpan<float> source, SafetensorsDType dtype, Span<byte> destination)
    {
        long needed = (long)source.Length * dtype.BytesPerElement();
        if (destination.Length < needed)
            throw new ArgumentException($"The destination holds {destination.Length} bytes; {needed} are needed.", nameof(destination));
        switch (dtype)
        {
            case SafetensorsDType.F32:
                MemoryMarshal.AsBytes(source).CopyTo(destination);
                break;
            case SafetensorsDType.F16:
                TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<byte, Half>(destination)[..source.Length]);
                break;
            case SafetensorsDType.BF16:
                Float32ToBFloat16(source, MemoryMarshal.Cast<byte, ushort>(destination)[..source.Length]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype));
        }
    }

    public static float BFloat16ToFloat32(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>Round to nearest, ties to even; NaN maps to the quiet NaN 0x7FC0 (with the sign kept).</summary>
    public static ushort Float32ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }

    public static void BFloat16ToFloat32(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("The destination is too short.", nameof(destination));
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var dst = MemoryMarshal.Cast<float, uint>(destination);
            int step = Vector<ushort>.Count;
            for (; i <= source.Length - step; i += step)
            {
                Vector.Widen(new Vector<ushort>(source[i..]), out var lo, out var hi);
                (lo << 16).CopyTo(dst[i..]);
                (hi << 16).CopyTo(dst[(i + Vector<uint>.Count)..]);
            }
        }
        for (; i < source.Length; i++) destination[i] = BFloat16ToFloat32(source[i]);
    }

    public static void Float32ToBFloat16(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("The destination is too short.", nameof(destination));
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var src = MemoryMarshal.Cast<float, uint>(source);
            int step = Vector<ushort>.Count;
            int half = Vector<uint>.Count;
            var bias = new Vector<uint>(0x7FFFu);
            var one = Vector<uint>.One;
            for (; i <= source.Length - step; i += step)
            {
                var lo = RoundToBFloat16(new Vector<uint>(src[i..]), new Vector<float>(source[i..]), bias, one);
                var hi = RoundToBFloat16(new Vector<uint>(src[(i + half)..]), new Vector<float>(source[(i + half)..]), bias, one);
                Vector.Narrow(lo, hi).CopyTo(destination[i..]);
            }
        }
        for (; i < source.Length; i++) destination[i] = Float32ToBFloat16(source[i]);
    }

    private static Vector<uint> RoundToBFloat16(Vector<uint> bits, Vector<float> values, Vector<uint> bias, Vector<uint> one)
    {
        var rounded = (bits + bias + ((bits >> 16) & one)) >> 16;
        var quietNaN = (bits >> 16) | new Vector<uint>(0x0040);
        var isNaN = Vector.AsVectorUInt32(Vector.Equals(values, values)); // all ones where not NaN
        return Vector.ConditionalSelect(isNaN, rounded, quietNaN);
    }
}
