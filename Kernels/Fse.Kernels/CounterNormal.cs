namespace Fse.Kernels;

/// <summary>
/// The counter-based draw behind random preset weights: element <c>i</c> of a tensor with key <c>k</c> is
/// <c>r = SplitMix64(k + (i + 1)·0x9E3779B97F4A7C15)</c>, and its zero-mean normal value is
/// <c>(float)(sum of r's four 16-bit lanes − 131070) · scale</c> with <c>scale = (float)(std / √((65536² − 1)/3))</c>
/// (Irwin–Hall, n = 4). Any element can be drawn alone, so a device kernel fills any window of any tensor in its own
/// memory and gets the bits the host gets (integer arithmetic, then one float conversion and one multiply).
/// </summary>
public static class CounterNormal
{
    public const ulong Golden = 0x9E3779B97F4A7C15UL;

    /// <summary>The mean of the four-lane sum, subtracted to centre it.</summary>
    public const long LaneSumMean = 131070;

    /// <summary>The standard deviation of the four-lane sum.</summary>
    public static readonly double LaneSumStd = Math.Sqrt((65536.0 * 65536.0 - 1) / 3);

    public static ulong SplitMix64(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The multiplier that turns a centred lane sum into a draw of standard deviation <paramref name="std"/>.</summary>
    public static float Scale(double std) => (float)(std / LaneSumStd);

    /// <summary>The centred four-lane sum of element <paramref name="index"/>, in [−131070, 131070].</summary>
    public static long Centered(ulong key, long index)
    {
        ulong r = SplitMix64(key + (ulong)(index + 1) * Golden);
        return (long)(r & 0xFFFF) + (long)((r >> 16) & 0xFFFF) + (long)((r >> 32) & 0xFFFF) + (long)(r >> 48) - LaneSumMean;
    }

    /// <summary>Element <paramref name="index"/> of the zero-mean draw with key <paramref name="key"/>, before any cast to a 16-bit dtype.</summary>
    public static float Value(ulong key, long index, float scale) => Centered(key, index) * scale;
}
