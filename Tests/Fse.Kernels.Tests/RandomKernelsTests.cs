using Fse.Kernels.Cuda.Device;

namespace Fse.Kernels.Tests;

/// <summary>The device kernels' own float → 16-bit conversions round exactly as the host's (Half and bfloat16).</summary>
public class RandomKernelsTests
{
    [Fact]
    public void HalfAndBfloat16RoundingMatchTheHostOnAStrideOfEveryFloat()
    {
        int checkedCount = 0;
        // A prime stride over all 2³² bit patterns, plus the boundaries of F16's ranges and their neighbours.
        var special = new[] { 65504f, 65519.996f, 65520f, 6.1035156e-5f, 6.1035152e-5f, 2.9802322e-8f, 2.9802326e-8f, 5.9604645e-8f, 1e-7f, 0f, -0f, 1f, -2.5f };
        var bits = Enumerable.Range(0, 1 << 20).Select(i => (uint)((ulong)i * 4093 % 4294967291UL)).Concat(special.Select(BitConverter.SingleToUInt32Bits));
        foreach (uint u in bits)
        {
            float f = BitConverter.UInt32BitsToSingle(u);
            if (float.IsNaN(f)) continue;
            Assert.Equal(BitConverter.HalfToUInt16Bits((Half)f), RandomKernels.HalfBits(f));
            if (!float.IsInfinity(f) && MathF.Abs(f) < 3e38f) Assert.Equal(Bf16.FromF32(f), RandomKernels.Bf16Bits(f));
            checkedCount++;
        }
        Assert.True(checkedCount > 1_000_000);
    }

    [Fact]
    public void DrawsAreCenteredNormalsOfTheRequestedScale()
    {
        var m = RandomMatrix.Whole(DType.F32, 400, 500, 12345, CounterNormal.Scale(0.5));
        var bytes = new byte[m.ElementCount * 4];
        m.WriteTo(bytes);
        var v = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        double mean = v.Average(x => (double)x), std = Math.Sqrt(v.Average(x => (x - mean) * (x - mean)));
        Assert.InRange(mean, -0.005, 0.005);
        Assert.InRange(std, 0.495, 0.505);
        Assert.Equal(CounterNormal.Value(12345, 399 * 500 + 7, CounterNormal.Scale(0.5)), v[399 * 500 + 7]);
    }
}
