using Fse.Kernels;

namespace Fse.Runtime.Inference;

/// <summary>Token choice and log probabilities over one row of logits (host side).</summary>
public sealed class Sampler
{
    private readonly SamplingParams _p;
    private readonly Random _rng;

    public Sampler(SamplingParams p)
    {
        p.Validate();
        _p = p;
        _rng = p.Seed is { } s ? new Random(unchecked((int)(s ^ (s >> 32)))) : new Random();
    }

    /// <summary>Whether <see cref="Next"/> is the arg-max (temperature 0), which the device can take itself (<see cref="Models.CausalLm.ForwardGreedy"/>).</summary>
    public bool IsGreedy => _p.Temperature == 0;

    public int Next(ReadOnlySpan<float> logits)
    {
        if (IsGreedy) return ArgMax(logits);
        int n = logits.Length;
        var weights = new double[n];
        double max = double.NegativeInfinity;
        for (int i = 0; i < n; i++) max = Math.Max(max, logits[i] / _p.Temperature);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += weights[i] = Math.Exp(logits[i] / _p.Temperature - max);
        if (_p.TopP >= 1) return Draw(weights, sum);

        // The nucleus without sorting the whole vocabulary: a heap built in O(V), popped most likely first (the lower id
        // on ties) until the popped probability reaches top_p.
        var heap = new PriorityQueue<int, (double Weight, int Id)>(
            Enumerable.Range(0, n).Select(i => (i, (weights[i], i))),
            Comparer<(double Weight, int Id)>.Create((a, b) => a.Weight != b.Weight ? b.Weight.CompareTo(a.Weight) : a.Id.CompareTo(b.Id)));
        var nucleus = new List<int>();
        double kept = 0;
        while (heap.Count > 0 && kept < _p.TopP * sum)
        {
            int id = heap.Dequeue();
            nucleus.Add(id);
            kept += weights[id];
        }
        double u = _rng.NextDouble() * kept;
        foreach (var id in nucleus)
        {
            u -= weights[id];
            if (u <= 0) return id;
        }
        return nucleus[^1];
    }

    /// <summary>A draw proportional to <paramref name="weights"/> (summing to <paramref name="sum"/>) in one pass.</summary>
    private int Draw(double[] weights, double sum)
    {
        double u = _rng.NextDouble() * sum;
        for (int i = 0; i < weights.Length; i++)
        {
            u -= weights[i];
            if (u <= 0) return i;
        }
        return Array.FindLastIndex(weights, w => w > 0);
    }

    /// <summary>Index of the largest logit; the lower index among equals.</summary>
    public static int ArgMax(ReadOnlySpan<float> logits) => GreedyArgMax.Of(logits);

    /// <summary>log softmax of one logit row in double precision.</summary>
    public static double[] LogSoftmax(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity;
        foreach (var l in logits) max = Math.Max(max, l);
        double sum = 0;
        foreach (var l in logits) sum += Math.Exp(l - max);
        double lse = max + Math.Log(sum);
        var r = new double[logits.Length];
        for (int i = 0; i < r.Length; i++) r[i] = logits[i] - lse;
        return r;
    }
}
