using Fse.Runtime.Inference;

namespace Fse.Runtime.Tests.Inference;

public class SamplerTests
{
    [Fact]
    public void GreedyTakesTheArgmaxAndTheLowerIdOnTies()
    {
        var s = new Sampler(SamplingParams.Greedy);
        Assert.Equal(2, s.Next([0.1f, -1f, 3f, 3f, 2.9f]));
    }

    [Fact]
    public void SeededSamplingIsReproducibleAndFollowsTheDistribution()
    {
        float[] logits = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.2f)];
        var p = new SamplingParams { Temperature = 1, Seed = 1234 };
        var a = new Sampler(p);
        var b = new Sampler(p);
        var draws = Enumerable.Range(0, 20000).Select(_ => a.Next(logits)).ToArray();
        Assert.Equal(draws.Take(50), Enumerable.Range(0, 50).Select(_ => b.Next(logits)));
        Assert.InRange(draws.Count(d => d == 0) / 20000.0, 0.48, 0.52);
        Assert.InRange(draws.Count(d => d == 2) / 20000.0, 0.18, 0.22);
    }

    [Fact]
    public void TopPKeepsOnlyTheNucleus()
    {
        float[] logits = [MathF.Log(0.6f), MathF.Log(0.3f), MathF.Log(0.1f)];
        var s = new Sampler(new SamplingParams { Temperature = 1, TopP = 0.8, Seed = 7 });
        var draws = Enumerable.Range(0, 5000).Select(_ => s.Next(logits)).ToArray();
        Assert.DoesNotContain(2, draws);
        Assert.Contains(1, draws);
    }

    [Fact]
    public void EqualWeightsEnterTheNucleusLowerIdFirst()
    {
        // 40 equal weights (even ids) among 40 smaller ones, and top_p that needs 10 of them: ids 0, 2, …, 18.
        var logits = Enumerable.Range(0, 80).Select(i => i % 2 == 0 ? 0f : -3f).ToArray();
        double sum = 40 + 40 * Math.Exp(-3);
        var s = new Sampler(new SamplingParams { Temperature = 1, TopP = 9.5 / sum, Seed = 11 });
        var draws = Enumerable.Range(0, 3000).Select(_ => s.Next(logits)).ToArray();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => 2 * i), draws.Distinct().Order());
    }

    /// <summary>
    /// A wide row of fresh random logits: every draw lies in the nucleus found by sorting the whole vocabulary
    /// (heaviest first, lower id on ties, until top_p of the mass), and the nucleus's heaviest token comes up at its share.
    /// </summary>
    [Theory]
    [InlineData(0.5, 0.8)]
    [InlineData(0.9, 0.8)]
    [InlineData(0.95, 1.3)]
    public void DrawsStayInTheNucleusOfAWideVocabulary(double topP, double temperature)
    {
        var rng = new Random();
        var logits = Enumerable.Range(0, 50_000).Select(_ => (float)(3 * Normal(rng))).ToArray();
        var w = logits.Select(l => Math.Exp(l / temperature - logits.Max() / temperature)).ToArray();
        var order = Enumerable.Range(0, w.Length).OrderByDescending(i => w[i]).ThenBy(i => i).ToArray();
        double target = topP * w.Sum() * (1 + 1e-9), kept = 0;
        int size = 0;
        while (kept < target) kept += w[order[size++]];
        var nucleus = order.Take(size).ToHashSet();

        var s = new Sampler(new SamplingParams { Temperature = temperature, TopP = topP, Seed = rng.Next() });
        const int n = 1500;
        var draws = Enumerable.Range(0, n).Select(_ => s.Next(logits)).ToArray();
        Assert.All(draws, d => Assert.Contains(d, nucleus));
        double share = w[order[0]] / kept, seen = draws.Count(d => d == order[0]) / (double)n, sd = Math.Sqrt(share * (1 - share) / n);
        Assert.InRange(seen, share - 5 * sd - 1e-3, share + 5 * sd + 1e-3);
    }

    [Fact]
    public void ANucleusReachingIntoNegligibleWeightsStillDraws()
    {
        // 20,000 tokens below 2^-64 of the heaviest hold more than the 1.1e-16 that top_p just under 1 leaves out, so the
        // nucleus reaches into them (lower ids first); the heaviest token still takes almost every draw.
        var logits = new float[20001];
        Array.Fill(logits, -45f);
        logits[0] = 0f;
        var s = new Sampler(new SamplingParams { Temperature = 1, TopP = Math.BitDecrement(1.0), Seed = 5 });
        var draws = Enumerable.Range(0, 20).Select(_ => s.Next(logits)).ToArray();
        Assert.All(draws, d => Assert.Equal(0, d));
    }

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    [Theory]
    [InlineData(-0.5, 1.0)]
    [InlineData(1.0, 0.0)]
    [InlineData(1.0, 1.5)]
    [InlineData(double.NaN, 1.0)]
    public void BadParametersAreRejected(double temperature, double topP) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(new SamplingParams { Temperature = temperature, TopP = topP }));

    [Fact]
    public void LogSoftmaxSumsToOne()
    {
        var l = Sampler.LogSoftmax([1f, 2f, 3f, -40f]);
        Assert.Equal(1.0, l.Sum(Math.Exp), 12);
        Assert.Equal(1.0 - 2.0, l[0] - l[1], 12);
    }
}
