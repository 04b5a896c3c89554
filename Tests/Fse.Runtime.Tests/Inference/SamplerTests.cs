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
