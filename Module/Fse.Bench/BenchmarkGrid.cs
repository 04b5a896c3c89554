namespace Fse.Bench;

/// <summary>How input and output lengths combine into grid points.</summary>
public enum GridPairing
{
    /// <summary>The i-th input length with the i-th output length (1000/100, 5000/500, …); a single value pairs with every value of the other list.</summary>
    Zip,

    /// <summary>Every input length with every output length.</summary>
    Cross,
}

/// <summary>One point of a sweep: the lengths, the client's concurrency cap, the request rate and the number of requests.</summary>
public sealed record BenchmarkGridPoint(int InputLength, int OutputLength, int MaxConcurrency, double RequestRate, int NumPrompts)
{
    public override string ToString() =>
        $"ISL {InputLength} OSL {OutputLength} MC {MaxConcurrency}" +
        (double.IsPositiveInfinity(RequestRate) ? "" : $" rate {RequestRate:0.###}/s") + $" ({NumPrompts} prompts)";
}

/// <summary>
/// The grid of a sweep, in run order: each (ISL, OSL) pair, then each request rate, then each concurrency.
/// The number of prompts per point is fixed, or a multiple of the point's concurrency.
/// </summary>
public static class BenchmarkGrid
{
    public static IReadOnlyList<BenchmarkGridPoint> Build(
        IReadOnlyList<int> inputLengths, IReadOnlyList<int> outputLengths, GridPairing pairing,
        IReadOnlyList<int> concurrencies, IReadOnlyList<double> requestRates,
        int? numPrompts, int? promptsPerConcurrency)
    {
        if (inputLengths.Count == 0 || outputLengths.Count == 0 || concurrencies.Count == 0 || requestRates.Count == 0)
            throw new ArgumentException("Every grid dimension needs at least one value.");
        if ((numPrompts is null) == (promptsPerConcurrency is null))
            throw new ArgumentException("Give exactly one of a prompt count and a prompt count per unit of concurrency.");
        if (numPrompts < 1 || promptsPerConcurrency < 1) throw new ArgumentOutOfRangeException(nameof(numPrompts), "Prompt counts must be at least 1.");
        if (inputLengths.Concat(outputLengths).Concat(concurrencies).Any(v => v < 1))
            throw new ArgumentOutOfRangeException(nameof(inputLengths), "Lengths and concurrencies must be at least 1.");
        if (requestRates.Any(r => !(r > 0))) throw new ArgumentOutOfRangeException(nameof(requestRates), "Request rates must be positive (or infinite).");

        var points = new List<BenchmarkGridPoint>();
        foreach (var (isl, osl) in Pairs(inputLengths, outputLengths, pairing))
            foreach (var rate in requestRates)
                foreach (var mc in concurrencies)
                    points.Add(new BenchmarkGridPoint(isl, osl, mc, rate, numPrompts ?? checked(promptsPerConcurrency!.Value * mc)));
        return points;
    }

    private static IEnumerable<(int, int)> Pairs(IReadOnlyList<int> isl, IReadOnlyList<int> osl, GridPairing pairing)
    {
        if (pairing == GridPairing.Cross)
            return isl.SelectMany(i => osl.Select(o => (i, o)));
        if (isl.Count == osl.Count) return isl.Zip(osl);
        if (isl.Count == 1) return osl.Select(o => (isl[0], o));
        if (osl.Count == 1) return isl.Select(i => (i, osl[0]));
        throw new ArgumentException($"Zipped pairing needs as many output lengths as input lengths (or one of either); got {isl.Count} and {osl.Count}. Use Cross pairing for every combination.");
    }
}
