using System.Runtime.InteropServices;
using Fse.Runtime.Checkpoints;
using static Fse.Runtime.Tests.Checkpoints.SafetensorsTestData;

namespace Fse.Runtime.Tests.Checkpoints;

public class DTypeConversionTests
{
    [Theory]
    [InlineData(0x3F800000u, (ushort)0x3F80)]   // 1.0 exact
    [InlineData(0x3F808000u, (ushort)0x3F80)]   // tie, even stays
    [InlineData(0x3F818000u, (ushort)0x3F82)]   // tie, odd rounds up to even
    [InlineData(0x3F808001u, (ushort)0x3F81)]   // just above the tie rounds up
    [InlineData(0x3F807FFFu, (ushort)0x3F80)]   // just below the tie rounds down
    [InlineData(0xBF818000u, (ushort)0xBF82)]   // negative tie to even
    [InlineData(0x7F7FFFFFu, (ushort)0x7F80)]   // float max rounds to +inf
    [InlineData(0x7F800000u, (ushort)0x7F80)]   // +inf
    [InlineData(0xFF800000u, (ushort)0xFF80)]   // -inf
    [InlineData(0x00000001u, (ushort)0x0000)]   // smallest subnormal rounds to zero
    public void BFloat16RoundsToNearestEven(uint floatBits, ushort expected)
    {
        Assert.Equal(expected, DTypeConversion.Float32ToBFloat16(BitConverter.UInt32BitsToSingle(floatBits)));
        Span<ushort> vector = new ushort[40];
        DTypeConversion.Float32ToBFloat16(Enumerable.Repeat(BitConverter.UInt32BitsToSingle(floatBits), 40).ToArray(), vector);
        Assert.All(vector.ToArray(), v => Assert.Equal(expected, v));
    }

    [Fact]
    public void BFloat16KeepsNaN()
    {
        Assert.True(float.IsNaN(DTypeConversion.BFloat16ToFloat32(DTypeConversion.Float32ToBFloat16(float.NaN))));
        // A NaN whose payload sits only in the low bits must not round to infinity.
        var lowPayloadNaN = BitConverter.UInt32BitsToSingle(0x7F800001u);
        var bits = new ushort[33];
        DTypeConversion.Float32ToBFloat16(Enumerable.Repeat(lowPayloadNaN, 33).ToArray(), bits);
        Assert.All(bits, b => Assert.True(float.IsNaN(DTypeConversion.BFloat16ToFloat32(b))));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(31)]
    [InlineData(1000)]
    public void VectorPathsMatchTheScalarDefinition(int count)
    {
        var values = RandomFloats(count, seed: count, scale: 300f);
        var bf16 = new ushort[count];
        DTypeConversion.Float32ToBFloat16(values, bf16);
        Assert.Equal(values.Select(DTypeConversion.Float32ToBFloat16), bf16);

        var back = new float[count];
        DTypeConversion.BFloat16ToFloat32(bf16, back);
        Assert.Equal(bf16.Select(b => BitConverter.UInt32BitsToSingle((uint)b << 16)), back);
        Assert.All(Enumerable.Range(0, count), i => Assert.True(Math.Abs(back[i] - values[i]) <= Math.Abs(values[i]) / 256));
    }

    [Theory]
    [InlineData(SafetensorsDType.F32)]
    [InlineData(SafetensorsDType.F16)]
    [InlineData(SafetensorsDType.BF16)]
    public void BytesRoundTripThroughEveryDType(SafetensorsDType dtype)
    {
        var values = RandomFloats(77, seed: (int)dtype + 5, scale: 20f);
        var bytes = new byte[values.Length * dtype.BytesPerElement()];
        DTypeConversion.FromFloat32(values, dtype, bytes);
        var back = new float[values.Length];
        DTypeConversion.ToFloat32(bytes, dtype, back);
        Assert.Equal(values.Select(v => Quantize(v, dtype)), back);
        if (dtype == SafetensorsDType.F16)
            Assert.Equal(values.Select(v => (Half)v), MemoryMarshal.Cast<byte, Half>(bytes).ToArray());
    }

    [Fact]
    public void ConversionChecksLengths()
    {
        Assert.Throws<ArgumentException>(() => DTypeConversion.ToFloat32(new byte[6], SafetensorsDType.F32, new float[2]));
        Assert.Throws<ArgumentException>(() => DTypeConversion.ToFloat32(new byte[8], SafetensorsDType.BF16, new float[3]));
        Assert.Throws<ArgumentException>(() => DTypeConversion.FromFloat32(new float[4], SafetensorsDType.F16, new byte[7]));
    }
}
