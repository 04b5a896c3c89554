namespace Fse.Kernels;

/// <summary>bfloat16 conversions as torch does them.</summary>
public static class Bf16
{
    public static float ToF32(ushort v) => BitConverter.Int32BitsToSingle(v << 16);

    /// <summary>Round to nearest even; NaN stays NaN.</summary>
    public static ushort FromF32(float f)
    {
        if (float.IsNaN(f)) return 0x7FC0;
        uint bits = (uint)BitConverter.SingleToInt32Bits(f);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
