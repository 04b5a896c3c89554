using System.Text;
using Fse.Kernels;
using Fse.Runtime.Presets;

namespace Fse.Runtime.Tests.Presets;

public class RandomWeightsTests
{
    [Fact]
    public void ValuesDependOnlyOnSeedNameAndIndex()
    {
        var init = WeightInit.Normal(0, 0.5f);
        var whole = new float[5000];
        RandomWeights.Fill(7, "model.layers.0.mlp.gate.weight", init, 0, whole);
        var again = new float[5000];
        RandomWeights.Fill(7, "model.layers.0.mlp.gate.weight", init, 0, again);
        Assert.Equal(whole, again);

        // Any slice, generated alone, equals the same elements of the whole.
        var slice = new float[1234];
        RandomWeights.Fill(7, "model.layers.0.mlp.gate.weight", init, 2222, slice);
        Assert.Equal(whole.Skip(2222).Take(1234), slice);

        var otherName = new float[5000];
        RandomWeights.Fill(7, "model.layers.1.mlp.gate.weight", init, 0, otherName);
        var otherSeed = new float[5000];
        RandomWeights.Fill(8, "model.layers.0.mlp.gate.weight", init, 0, otherSeed);
        Assert.True(whole.Zip(otherName).Count(p => p.First == p.Second) < 10);
        Assert.True(whole.Zip(otherSeed).Count(p => p.First == p.Second) < 10);
    }

    [Fact]
    public void TheDocumentedRecipeIsWhatRuns()
    {
        // A device generator that follows the recipe in RandomWeights' documentation must reproduce these values exactly.
        ulong fnv = 0xCBF29CE484222325UL;
        foreach (var b in Encoding.UTF8.GetBytes("model.norm.weight")) { fnv ^= b; fnv *= 0x100000001B3UL; }
        ulong key = CounterNormal.SplitMix64(fnv ^ 42u);
        Assert.Equal(key, RandomWeights.TensorKey(42, "model.norm.weight"));

        var values = new float[3];
        RandomWeights.Fill(WeightInit.Normal(0.25f, 2f), key, 10, values);
        for (int j = 0; j < 3; j++)
        {
            ulong r = CounterNormal.SplitMix64(key + (ulong)(10 + j + 1) * 0x9E3779B97F4A7C15UL);
            long sum = (long)(r & 0xFFFF) + (long)((r >> 16) & 0xFFFF) + (long)((r >> 32) & 0xFFFF) + (long)(r >> 48);
            float scale = (float)(2.0 / Math.Sqrt((65536.0 * 65536.0 - 1) / 3));
            Assert.Equal(0.25f + (float)(sum - 131070) * scale, values[j]);
        }
        // SplitMix64 is the standard finaliser (reference value for state 0 + golden gamma).
        Assert.Equal(0xE220A8397B1DCDAFUL, CounterNormal.SplitMix64(0x9E3779B97F4A7C15UL));
    }

    [Theory]
    [InlineData(0f, 1f)]
    [InlineData(1f, 0.02f)]
    [InlineData(-0.5f, 3f)]
    public void NormalDrawsHaveTheRequestedMeanAndSpreadAndAreBounded(float mean, float std)
    {
        var values = new float[400_000];
        RandomWeights.Fill(3, "t", WeightInit.Normal(mean, std), 0, values);
        double m = values.Average(v => (double)v);
        double s = Math.Sqrt(values.Average(v => (v - m) * (v - m)));
        Assert.InRange(m, mean - 0.01 * std, mean + 0.01 * std);
        Assert.InRange(s, 0.99 * std, 1.01 * std);
        Assert.All(values, v => Assert.InRange(v, mean - 3.47f * std, mean + 3.47f * std));
        Assert.True(values.Count(v => Math.Abs(v - mean) > 2 * std) > values.Length / 50); // tails exist (normal: 4.6%)
    }

    [Fact]
    public void LogUniformCoversItsRange()
    {
        var values = new float[100_000];
        RandomWeights.Fill(1, "model.layers.0.linear_attn.A_log", new WeightInit(WeightDistribution.LogUniform, 1, 16), 0, values);
        Assert.All(values, v => Assert.InRange(v, 0f, MathF.Log(16)));
        var a = values.Select(MathF.Exp).ToArray();
        Assert.InRange(a.Average(), 8.4, 8.6); // U(1,16) has mean 8.5
        Assert.True(a.Min() < 1.01f && a.Max() > 15.99f);
    }
}
