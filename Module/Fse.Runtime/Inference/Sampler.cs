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

    public int Next(ReadOnlySpan<float> logits)
    {
        if (_p.Temperature == 0) return ArgMax(logits);
        int n = logits.Length;
        var probs = new double[n];
        double max = double.NegativeInfinity;
        for (int i = 0; i < n; i++) max = Math.Max(max, logits[i] / _p.Temperature);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += probs[i] = Math.Exp(logits[i] / _p.Temperature - max);
        var order = Enumerable.Range(0, n).ToArray();
        Array.Sort(order, (a, b) => probs[b].CompareTo(probs[a]) is var c && c != 0 ? c : a.CompareTo(b));
        int keep = n;
        if (_p.TopP < 1)
        {
            double acc = 0;
            for (int i = 0; i < n; i++)
            {
                acc += probs[order[i]] / sum;
                if (acc >= _p.TopP) { keep = i + 1; break; }
            }
        }
        double total = 0;
        for (int i = 0; i < keep; i++) total += probs[order[i]];
        double u = _rng.NextDouble() * total;
        for (int i = 0; i < keep; i++)
        {
            u -= probs[order[i]];
            if (u <= 0) return order[i];
        }
        return order[keep - 1];
    }

    /// <summary>Index of the largest logit; the lower index among equals.</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }

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
