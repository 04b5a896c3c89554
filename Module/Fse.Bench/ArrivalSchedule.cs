using MathNet.Numerics.Distributions;

namespace Fse.Bench;

/// <summary>
/// When each request of a run is released, in seconds from the run's start (vLLM's <c>get_request</c>): all at once
/// for an infinite rate; otherwise gaps drawn from a gamma distribution with shape = burstiness and
/// scale = 1/(rate·burstiness) (burstiness 1 is a Poisson process, below 1 burstier, above 1 more even, infinite a
/// constant 1/rate), accumulated, then rescaled so the last release falls exactly at n/rate (vLLM does this to keep
/// throughput comparable across seeds). Seeded: the same seed gives the same schedule.
/// </summary>
public static class ArrivalSchedule
{
    public static double[] Build(int count, double requestRate, double burstiness, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (!(requestRate > 0)) throw new ArgumentOutOfRangeException(nameof(requestRate), requestRate, "The request rate must be positive (or infinite).");
        if (!(burstiness > 0)) throw new ArgumentOutOfRangeException(nameof(burstiness), burstiness, "The burstiness must be positive.");
        var delays = new double[count];
        if (double.IsPositiveInfinity(requestRate)) return delays;

        var rng = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            delays[i] = double.IsPositiveInfinity(burstiness)
                ? 1.0 / requestRate
                : Gamma.Sample(rng, burstiness, requestRate * burstiness);   // MathNet takes shape and rate = 1/scale
        }
        for (int i = 1; i < count; i++) delays[i] += delays[i - 1];
        if (delays[^1] != 0)
        {
            double scale = count / requestRate / delays[^1];
            for (int i = 0; i < count; i++) delays[i] *= scale;
        }
        return delays;
    }
}
