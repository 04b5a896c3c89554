using Fse.Runtime.Models;
using Fse.Runtime.Moe;

namespace Fse.Runtime.Inference;

/// <summary>How FSE on compares with FSE off on the same inputs: what <c>Test-FseParity</c> returns.</summary>
public sealed class FseParityResult
{
    public required string Model { get; init; }
    public required string Device { get; init; }
    public required int Positions { get; init; }
    public required int Seed { get; init; }

    /// <summary>Largest |on − off| over every logit.</summary>
    public required double MaxAbsDiff { get; init; }

    /// <summary>Largest per-position ‖on − off‖ / ‖off‖.</summary>
    public required double MaxRelativeL2 { get; init; }

    /// <summary>Fraction of (MoE layer, token) pairs whose top-k routed experts are the same set in both modes.</summary>
    public required double RoutingAgreement { get; init; }

    /// <summary>Fraction of positions whose argmax token is the same in both modes.</summary>
    public required double ArgmaxAgreement { get; init; }

    /// <summary>Whether the shared-expert slots appeared in every FSE-on routing row and never with FSE off.</summary>
    public required bool SharedSlotsCorrect { get; init; }

    public required double Tolerance { get; init; }

    public bool Passed => MaxRelativeL2 <= Tolerance && SharedSlotsCorrect;
}

/// <summary>Runs one checkpoint with FSE off and on over the same random tokens and compares logits and routing.</summary>
public static class ParityCheck
{
    public static FseParityResult Run(CausalLm off, CausalLm on, int positions, int seed, double tolerance = 1e-4)
    {
        if (off.Fse != FseMode.Off || on.Fse != FseMode.On) throw new ArgumentException("Give the FSE-off model first and the FSE-on model second.");
        var rng = new Random(seed);
        var tokens = Enumerable.Range(0, positions).Select(_ => rng.Next(off.Config.VocabSize)).ToArray();
        var offRouting = new RoutingRecorder();
        var onRouting = new RoutingRecorder();
        var a = new Generator(off).Logits(tokens, offRouting);
        var b = new Generator(on).Logits(tokens, onRouting);
        double maxAbs = 0, maxRel = 0;
        int argmaxSame = 0;
        for (int p = 0; p < positions; p++)
        {
            double num = 0, den = 0;
            for (int v = 0; v < a[p].Length; v++)
            {
                double d = b[p][v] - (double)a[p][v];
                maxAbs = Math.Max(maxAbs, Math.Abs(d));
                num += d * d;
                den += (double)a[p][v] * a[p][v];
            }
            maxRel = Math.Max(maxRel, Math.Sqrt(num / Math.Max(den, 1e-300)));
            if (Sampler.ArgMax(a[p]) == Sampler.ArgMax(b[p])) argmaxSame++;
        }
        int k = off.Config.NumExpertsPerTok, experts = off.Config.NumExperts, shared = off.Config.SharedExpertSlots;
        int pairs = 0, agree = 0;
        bool slotsOk = true;
        foreach (var (layer, offRows) in offRouting.Rows)
        {
            var onRows = onRouting.Rows[layer];
            for (int t = 0; t < offRows.Count; t++)
            {
                pairs++;
                if (offRows[t].Take(k).Order().SequenceEqual(onRows[t].Take(k).Order())) agree++;
                slotsOk &= offRows[t].Length == k && offRows[t].All(id => id < experts);
                slotsOk &= onRows[t].Length == k + shared && Enumerable.Range(0, shared).All(s => onRows[t][k + s] == experts + s);
            }
        }
        return new FseParityResult
        {
            Model = off.Location,
            Device = off.Backend.Name,
            Positions = positions,
            Seed = seed,
            MaxAbsDiff = maxAbs,
            MaxRelativeL2 = maxRel,
            RoutingAgreement = pairs == 0 ? 1 : agree / (double)pairs,
            ArgmaxAgreement = argmaxSame / (double)positions,
            SharedSlotsCorrect = slotsOk && onRouting.Rows.Count == offRouting.Rows.Count,
            Tolerance = tolerance,
        };
    }

    private sealed class RoutingRecorder : IRoutingObserver
    {
        public SortedDictionary<int, List<int[]>> Rows { get; } = [];

        public void OnRouted(int layer, int[] ids, float[] weights, int slotsPerToken)
        {
            var list = Rows[layer] = [];
            for (int t = 0; t < ids.Length / slotsPerToken; t++) list.Add(ids.AsSpan(t * slotsPerToken, slotsPerToken).ToArray());
        }
    }
}
