using ILGPU;

namespace Fse.Kernels.Cuda.Device;

/// <summary>16 bytes read in one 128-bit load (<c>ld.global.v4.b32</c>): 8 bf16/f16 values or 4 floats.</summary>
public struct U4
{
    public uint X, Y, Z, W;
}

/// <summary>Eight consecutive weights widened to F32: the unit the vectorised kernels work in.</summary>
public struct F8
{
    public float A, B, C, D, E, F, G, H;

    /// <summary>Dot product with the 8 floats at <paramref name="index"/> (in 16-byte units) of a 16-byte aligned F32 view.</summary>
    public readonly float Dot(ArrayView<U4> x, long index)
    {
        U4 p = x[index];
        U4 q = x[index + 1];
        return A * Interop.IntAsFloat(p.X) + B * Interop.IntAsFloat(p.Y) + C * Interop.IntAsFloat(p.Z) + D * Interop.IntAsFloat(p.W)
             + E * Interop.IntAsFloat(q.X) + F * Interop.IntAsFloat(q.Y) + G * Interop.IntAsFloat(q.Z) + H * Interop.IntAsFloat(q.W);
    }
}

/// <summary>
/// How a kernel reads one weight dtype: single elements (any alignment) and 8-element chunks through 128-bit loads
/// (16-byte aligned rows whose length is a multiple of 8). Kernels are generic over this so one source serves F32, F16 and BF16.
/// </summary>
public interface IWeightFormat
{
    /// <summary>Element <paramref name="index"/> of the weight, widened to F32.</summary>
    float Scalar(ArrayView<byte> w, long index);

    /// <summary>Elements [8·chunk, 8·chunk + 8) widened to F32.</summary>
    F8 Chunk(ArrayView<U4> w, long chunk);
}

public struct F32Weights : IWeightFormat
{
    public readonly float Scalar(ArrayView<byte> w, long index) => w.Cast<float>()[index];

    public readonly F8 Chunk(ArrayView<U4> w, long chunk)
    {
        U4 p = w[2 * chunk];
        U4 q = w[2 * chunk + 1];
        return new F8
        {
            A = Interop.IntAsFloat(p.X), B = Interop.IntAsFloat(p.Y), C = Interop.IntAsFloat(p.Z), D = Interop.IntAsFloat(p.W),
            E = Interop.IntAsFloat(q.X), F = Interop.IntAsFloat(q.Y), G = Interop.IntAsFloat(q.Z), H = Interop.IntAsFloat(q.W),
        };
    }
}

public struct Bf16Weights : IWeightFormat
{
    public readonly float Scalar(ArrayView<byte> w, long index) => Interop.IntAsFloat((uint)w.Cast<ushort>()[index] << 16);

    public readonly F8 Chunk(ArrayView<U4> w, long chunk)
    {
        U4 p = w[chunk];
        return new F8
        {
            A = Interop.IntAsFloat(p.X << 16), B = Interop.IntAsFloat(p.X & 0xFFFF0000u),
            C = Interop.IntAsFloat(p.Y << 16), D = Interop.IntAsFloat(p.Y & 0xFFFF0000u),
            E = Interop.IntAsFloat(p.Z << 16), F = Interop.IntAsFloat(p.Z & 0xFFFF0000u),
            G = Interop.IntAsFloat(p.W << 16), H = Interop.IntAsFloat(p.W & 0xFFFF0000u),
        };
    }
}

public struct F16Weights : IWeightFormat
{
    public readonly float Scalar(ArrayView<byte> w, long index) => Widen(w.Cast<ushort>()[index]);

    public readonly F8 Chunk(ArrayView<U4> w, long chunk)
    {
        U4 p = w[chunk];
        return new F8
        {
            A = Widen(p.X & 0xFFFF), B = Widen(p.X >> 16), C = Widen(p.Y & 0xFFFF), D = Widen(p.Y >> 16),
            E = Widen(p.Z & 0xFFFF), F = Widen(p.Z >> 16), G = Widen(p.W & 0xFFFF), H = Widen(p.W >> 16),
        };
    }

    /// <summary>IEEE binary16 bits to F32, exact for normals, subnormals, infinities and NaN.</summary>
    public static float Widen(uint h)
    {
        uint sign = (h & 0x8000u) << 16;
        uint exp = (h >> 10) & 0x1Fu;
        uint mant = h & 0x3FFu;
        if (exp == 0x1Fu) return Interop.IntAsFloat(sign | 0x7F800000u | (mant << 13));
        if (exp != 0) return Interop.IntAsFloat(sign | ((exp + 112u) << 23) | (mant << 13));
        float sub = mant * 5.9604644775390625e-8f;   // mant · 2^-24, exact
        return sign != 0 ? -sub : sub;
    }
}
