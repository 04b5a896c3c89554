using System.Text;
using Fse.Kernels;
using Fse.Runtime.Checkpoints;

namespace Fse.Runtime.Presets;

/// <summary>
/// Deterministic random weights, generated per element so any slice of any tensor can be produced independently, in any
/// order, on any thread, or on a GPU. The recipe (exact, so a device kernel can reproduce it):
/// <list type="number">
/// <item>Tensor key <c>k = SplitMix64(FNV-1a-64(UTF-8 name) ^ (ulong)(uint)seed)</c>.</item>
/// <item>Element <c>i</c> (0-based, row-major) draws <c>r = SplitMix64(k + (i + 1)·0x9E3779B97F4A7C15)</c>.</item>
/// <item>Normal: the four 16-bit lanes of r summed (Irwin–Hall, n = 4: mean 131070, standard deviation √((65536²−1)/3)),
///   <c>value = A + (float)(sum − 131070) · (float)(B / σ)</c>; bounded by ±3.46·B, so no outliers swamp a tiny model.</item>
/// <item>LogUniform: <c>u = (r &gt;&gt; 40)·2⁻²⁴</c>, <c>value = (float)log(A + (B − A)·u)</c> (in double).</item>
/// </list>
/// SplitMix64(z): <c>z ^= z &gt;&gt; 30; z *= 0xBF58476D1CE4E5B9; z ^= z &gt;&gt; 27; z *= 0x94D049BB133111EB; z ^= z &gt;&gt; 31</c>.
/// Zero-mean normal draws are <see cref="CounterNormal"/>'s, which backends reproduce in device memory.
/// </summary>
public static class RandomWeights
{
    /// <summary>The key of a tensor for a seed: every value of the tensor depends only on this key and the element index.</summary>
    public static ulong TensorKey(int seed, string name)
    {
        ulong hash = 0xCBF29CE484222325UL;
        foreach (var b in Encoding.UTF8.GetBytes(name))
        {
            hash ^= b;
            hash *= 0x100000001B3UL;
        }
        return CounterNormal.SplitMix64(hash ^ (uint)seed);
    }

    /// <summary>Writes elements [<paramref name="start"/>, start + destination.Length) of the tensor with key <paramref name="key"/>.</summary>
    public static void Fill(WeightInit init, ulong key, long start, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        switch (init.Distribution)
        {
            case WeightDistribution.Normal:
                {
                    float mean = init.A;
                    float scale = CounterNormal.Scale(init.B);
                    for (int i = 0; i < destination.Length; i++) destination[i] = mean + CounterNormal.Centered(key, start + i) * scale;
                    break;
                }
            case WeightDistribution.LogUniform:
                {
                    double low = init.A, width = init.B - init.A;
                    ulong state = key + (ulong)(start + 1) * CounterNormal.Golden;
                    for (int i = 0; i < destination.Length; i++, state += CounterNormal.Golden)
                    {
                        double u = (CounterNormal.SplitMix64(state) >> 40) * (1.0 / (1 << 24));
                        destination[i] = (float)Math.Log(low + width * u);
                    }
                    break;
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(init));
        }
    }

    /// <summary>Writes elements of tensor <paramref name="name"/> drawn for <paramref name="seed"/>.</summary>
    public static void Fill(int seed, string name, WeightInit init, long start, Span<float> destination) =>
        Fill(init, TensorKey(seed, name), start, destination);

    /// <summary>
    /// Writes elements of a manifest tensor as <see cref="PresetWriter"/> writes them for <paramref name="seed"/>: the plan a
    /// device backend follows to build the same model in its own memory (before the cast to the checkpoint dtype).
    /// </summary>
    public static void Fill(int seed, ExpectedTensor tensor, ModelConfig config, long start, Span<float> destination) =>
        Fill(WeightInit.For(tensor, config), TensorKey(seed, tensor.Name), start, destination);
}
