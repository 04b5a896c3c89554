using ILGPU;

namespace Fse.Kernels.Cuda.Device;

/// <summary>16 bytes read in one 128-bit load (<c>ld.global.v4.b32</c>): 8 bf16/f16 values or 4 floats.</summary>
public struct U4
{
    public uint X, Y, Z, W;
}

/// <summary>
/// Four consecutive floats: chunk c of a row holds elements 4c … 4c+3. Loads and stores go through one 128-bit access
/// when the caller's vector flag says the row is aligned and whole chunks; otherwise element by element, elements at or
/// past the row's width reading 0 and never written.
/// </summary>
public struct F4
{
    public float X, Y, Z, W;

    /// <summary>Chunk <paramref name="c"/> of the row at <paramref name="rowBase"/> (floats; −1: a missing row, all zeros).</summary>
    public static F4 Load(ArrayView<float> s, ArrayView<U4> s4, long rowBase, int c, int width, int vector)
    {
        if (rowBase < 0) return default;
        if (vector != 0)
        {
            U4 u = s4[(rowBase >> 2) + c];
            return new F4 { X = Interop.IntAsFloat(u.X), Y = Interop.IntAsFloat(u.Y), Z = Interop.IntAsFloat(u.Z), W = Interop.IntAsFloat(u.W) };
        }
        int d = 4 * c;
        long b = rowBase + d;
        return new F4
        {
            X = d < width ? s[b] : 0f, Y = d + 1 < width ? s[b + 1] : 0f,
            Z = d + 2 < width ? s[b + 2] : 0f, W = d + 3 < width ? s[b + 3] : 0f,
        };
    }

    /// <summary>Chunk <paramref name="c"/> of a shared array padded to whole chunks.</summary>
    public static F4 Shared(ArrayView<float> s, int c) => new() { X = s[4 * c], Y = s[4 * c + 1], Z = s[4 * c + 2], W = s[4 * c + 3] };

    public readonly void Store(ArrayView<float> s, ArrayView<U4> s4, long rowBase, int c, int width, int vector)
    {
        if (vector != 0)
        {
            s4[(rowBase >> 2) + c] = new U4 { X = Interop.FloatAsInt(X), Y = Interop.FloatAsInt(Y), Z = Interop.FloatAsInt(Z), W = Interop.FloatAsInt(W) };
            return;
        }
        int d = 4 * c;
        long b = rowBase + d;
        if (d < width) s[b] = X;
        if (d + 1 < width) s[b + 1] = Y;
        if (d + 2 < width) s[b + 2] = Z;
        if (d + 3 < width) s[b + 3] = W;
    }

    public readonly void ToShared(ArrayView<float> s, int at)
    {
        s[at] = X;
        s[at + 1] = Y;
        s[at + 2] = Z;
        s[at + 3] = W;
    }

    public readonly float Dot(F4 o) => X * o.X + Y * o.Y + Z * o.Z + W * o.W;

    /// <summary>this += f·o.</summary>
    public void Add(float f, F4 o)
    {
        X += f * o.X;
        Y += f * o.Y;
        Z += f * o.Z;
        W += f * o.W;
    }

    public readonly F4 Scaled(float f) => new() { X = X * f, Y = Y * f, Z = Z * f, W = W * f };
}

/// <summary>Eight consecutive weights widened to F32: the unit the vectorised kernels work in.</summary>
public struct F8
{
    public float A, B, C, D, E, F, G, H;

    /// <summary>Dot product with the 8 floats at <paramref name="index"/> (in 16-byte units) of a 16-byte aligned F32 view.</summary>
    public readonly float Dot(ArrayView<U4> x, long index) => Dot(Floats(x, index));

    public readonly float Dot(F8 o) => A * o.A + B * o.B + C * o.C + D * o.D + E * o.E + F * o.F + G * o.G + H * o.H;

    /// <summary>The 8 floats at <paramref name="index"/> (in 16-byte units) of a 16-byte aligned F32 view: two 128-bit loads.</summary>
    public static F8 Floats(ArrayView<U4> x, long index)
    {
        U4 p = x[index];
        U4 q = x[index + 1];
        return new F8
        {
            A = Interop.IntAsFloat(p.X), B = Interop.IntAsFloat(p.Y), C = Interop.IntAsFloat(p.Z), D = Interop.IntAsFloat(p.W),
            E = Interop.IntAsFloat(q.X), F = Interop.IntAsFloat(q.Y), G = Interop.IntAsFloat(q.Z), H = Interop.IntAsFloat(q.W),
        };
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

    /// <summary>Bytes per weight.</summary>
    int Bytes { get; }
}

public struct F32Weights : IWeightFormat
{
    public readonly float Scalar(ArrayView<byte> w, long index) => w.Cast<float>()[index];

    public readonly F8 Chunk(ArrayView<U4> w, long chunk) => F8.Floats(w, 2 * chunk);

    public readonly int Bytes => 4;
}

/// <summary>A 16-bit weight dtype, whose 8-element chunk is one 128-bit load: the raw load and its widening can be apart.</summary>
public interface IHalfWeights : IWeightFormat
{
    /// <summary>The 8 weights of a raw 16-byte chunk, widened to F32.</summary>
    F8 Chunk(U4 raw);
}

public struct Bf16Weights : IHalfWeights
{
    public readonly float Scalar(ArrayView<byte> w, long index) => Interop.IntAsFloat((uint)w.Cast<ushort>()[index] << 16);

    public readonly F8 Chunk(ArrayView<U4> w, long chunk) => Chunk(w[chunk]);

    public readonly int Bytes => 2;

    public readonly F8 Chunk(U4 p)
    {
        return new F8
        {
            A = Interop.IntAsFloat(p.X << 16), B = Interop.IntAsFloat(p.X & 0xFFFF0000u),
            C = Interop.IntAsFloat(p.Y << 16), D = Interop.IntAsFloat(p.Y & 0xFFFF0000u),
            E = Interop.IntAsFloat(p.Z << 16), F = Interop.IntAsFloat(p.Z & 0xFFFF0000u),
            G = Interop.IntAsFloat(p.W << 16), H = Interop.IntAsFloat(p.W & 0xFFFF0000u),
        };
    }
}

public struct F16Weights : IHalfWeights
{
    public readonly float Scalar(ArrayView<byte> w, long index) => Widen(w.Cast<ushort>()[index]);

    public readonly F8 Chunk(ArrayView<U4> w, long chunk) => Chunk(w[chunk]);

    public readonly int Bytes => 2;

    public readonly F8 Chunk(U4 p)
    {
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
