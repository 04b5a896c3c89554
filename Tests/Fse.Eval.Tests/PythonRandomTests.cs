using System.Numerics;
using Fse.Eval.Sampling;

namespace Fse.Eval.Tests;

/// <summary>Pins CPython's random module: published values and values printed by CPython 3.11 for the same calls.</summary>
public class PythonRandomTests
{
    [Fact]
    public void Seed1234GivesPythonsFirstRandom() =>
        // random.seed(1234); random.random()
        Assert.Equal(0.9664535356921388, new PythonRandom(1234).NextDouble());

    [Theory]
    [InlineData(42, 0.6394267984578837)]
    [InlineData(0, 0.8444218515250481)]
    [InlineData(-1234, 0.9664535356921388)]   // CPython seeds with the absolute value
    public void OtherSeedsMatchPython(long seed, double first) => Assert.Equal(first, new PythonRandom(seed).NextDouble());

    [Fact]
    public void InitByArrayMatchesTheMt19937ReferenceOutput()
    {
        // mt19937ar.c's test: init_by_array({0x123, 0x234, 0x345, 0x456}) first outputs 1067595299 955945823 477289528.
        var seed = new BigInteger(0x123) + (new BigInteger(0x234) << 32) + (new BigInteger(0x345) << 64) + (new BigInteger(0x456) << 96);
        var r = new PythonRandom(seed);
        Assert.Equal([1067595299u, 955945823u, 477289528u], new[] { r.NextUInt32(), r.NextUInt32(), r.NextUInt32() });
    }

    [Fact]
    public void MultiWordSeedsAndWideGetRandBitsMatchPython()
    {
        // r = random.Random(2**40 + 5); r.random(), r.getrandbits(40), r.getrandbits(7)
        var r = new PythonRandom((1L << 40) + 5);
        Assert.Equal(0.5043802970418443, r.NextDouble());
        Assert.Equal(727003120297ul, r.GetRandBits(40));
        Assert.Equal(118ul, r.GetRandBits(7));
    }

    [Fact]
    public void SampleOfGsm8kTrainIndicesMatchesLmEvalsDraws()
    {
        // random.Random(1234): three successive sample(range(7473), 5) calls, as lm-eval makes for test items 0, 1, 2.
        var r = new PythonRandom(1234);
        Assert.Equal([6374, 3610, 957, 61, 742], r.SampleIndices(7473, 5));
        Assert.Equal([7462, 6610, 4769, 286, 5501], r.SampleIndices(7473, 5));
        Assert.Equal([5677, 687, 806, 6279, 2905], r.SampleIndices(7473, 5));
    }

    [Fact]
    public void SampleUsesThePoolBranchForSmallPopulations()
    {
        // n <= setsize: a shrinking pool; random.Random(1234).sample(range(20), 5) and sample(range(60), 10)
        Assert.Equal([14, 3, 0, 2, 1], new PythonRandom(1234).SampleIndices(20, 5));
        Assert.Equal([49, 28, 7, 0, 5, 51, 37, 2, 42, 44], new PythonRandom(1234).SampleIndices(60, 10));
        Assert.Equal(21, PythonRandom.SetSizeThreshold(5));
        Assert.Equal(21 + 64, PythonRandom.SetSizeThreshold(10));
    }

    [Fact]
    public void SampleUsesTheSetBranchForLargePopulations()
    {
        Assert.Equal([6374, 3610, 957, 61, 742, 7462, 6610, 4769, 286, 5501], new PythonRandom(1234).SampleIndices(7473, 10));
        // randrange(7473) three times is the same rejection sampler
        var r = new PythonRandom(1234);
        Assert.Equal([6374L, 3610L, 957L], new[] { r.RandBelow(7473), r.RandBelow(7473), r.RandBelow(7473) });
    }

    [Fact]
    public void SamplesAreDistinctAndInRange()
    {
        var seed = new Random(77).Next();
        var r = new PythonRandom(seed);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = 1 + trial % 97, k = Math.Min(n, trial % 13);
            var s = r.SampleIndices(n, k);
            Assert.Equal(k, s.Distinct().Count());
            Assert.All(s, i => Assert.InRange(i, 0, n - 1));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => r.SampleIndices(3, 4));
    }
}
