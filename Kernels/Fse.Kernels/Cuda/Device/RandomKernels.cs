using ILGPU;

namespace Fse.Kernels.Cuda.Device;

/// <summary>One block of a <see cref="RandomMatrix"/> to draw: <see cref="RandomRows"/> plus where it goes.</summary>
public struct RandomArgs
{
    public ArrayView<byte> Output;
    public ulong Key;
    public float Scale;
    public long Offset, Stride;
    public int Rows, Cols, ValidRows, ValidCols;

    /// <summary>0 F32, 1 F16, 2 BF16.</summary>
    public int DType;
}

/// <summary>Random weights drawn in device memory with the host's recipe (<see cref="CounterNormal"/>), bit for bit.</summary>
public static class RandomKernels
{
    /// <summary>One thread per element (grid-stride): the draw inside the valid window, zero outside, cast to the dtype.</summary>
    public static void Normal(RandomArgs a)
    {
        long n = (long)a.Rows * a.Cols;
        for (long i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX)
        {
            long r = i / a.Cols, c = i - r * a.Cols;
            float v = r < a.ValidRows && c < a.ValidCols ? CounterNormal.Value(a.Key, a.Offset + r * a.Stride + c, a.Scale) : 0f;
            if (a.DType == 0) a.Output.Cast<float>()[i] = v;
            else if (a.DType == 1) a.Output.Cast<ushort>()[i] = HalfBits(v);
            else a.Output.Cast<ushort>()[i] = Bf16Bits(v);
        }
    }

    /// <summary>float → bfloat16 bits, round to nearest even (finite inputs).</summary>
    public static ushort Bf16Bits(float f)
    {
        uint bits = Interop.FloatAsInt(f);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }

    /// <summary>float → IEEE half bits, round to nearest even, with subnormals and overflow to infinity (as <c>(Half)f</c>).</summary>
    public static ushort HalfBits(float f)
    {
        uint x = Interop.FloatAsInt(f);
        uint sign = (x >> 16) & 0x8000u, abs = x & 0x7FFFFFFFu;
        if (abs >= 0x7F800000u) return (ushort)(sign | (abs > 0x7F800000u ? 0x7E00u : 0x7C00u));
        if (abs >= 0x477FF000u) return (ushort)(sign | 0x7C00u); // ≥ 65520 rounds to infinity
        if (abs >= 0x38800000u) return (ushort)(sign | ((abs + 0xC8000FFFu + ((abs >> 13) & 1u)) >> 13)); // rebias by −112, round
        if (abs <= 0x33000000u) return (ushort)sign; // ≤ 2⁻²⁵ rounds to zero
        int shift = 126 - (int)(abs >> 23);
        uint m = (abs & 0x7FFFFFu) | 0x800000u;
        uint q = m >> shift, rest = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rest > half || (rest == half && (q & 1u) != 0)) q++;
        return (ushort)(sign | q);
    }
}
