using System.Numerics.Tensors;
using Fse.Kernels;

namespace Fse.Runtime.Inference;

/// <summary>Token choice and log probabilities over one row of logits (host side).</summary>
public sealed class Sampler
{
    private readonly SamplingParams _p;
    private readonly Random _rng;

    // Scratch of one draw or log-sum-exp, per thread rather than per sampler: a server holds a sampler per live sequence, and a
    // vocabulary-wide set of buffers each would be megabytes a sequence.
    [ThreadStatic] private static double[]? _weights, _keys;
    [ThreadStatic] private static int[]? _ids;
    [ThreadStatic] private static short[]? _buckets;

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
        if (_weights is null || _weights.Length < n) _weights = new double[n];
        var w = _weights.AsSpan(0, n);
        for (int i = 0; i < n; i++) w[i] = logits[i] / _p.Temperature;
        TensorPrimitives.Subtract(w, TensorPrimitives.Max(w), w);
        TensorPrimitives.Exp(w, w);
        double sum = TensorPrimitives.Sum(w);
        if (_p.TopP >= 1) return Draw(w, sum);
        return Nucleus(w, _p.TopP * sum) ?? NucleusByHeap(w, _p.TopP * sum);
    }

    /// <summary>A draw proportional to <paramref name="weights"/> (summing to <paramref name="sum"/>) in one pass.</summary>
    private int Draw(ReadOnlySpan<double> weights, double sum)
    {
        double u = _rng.NextDouble() * sum;
        for (int i = 0; i < weights.Length; i++)
        {
            u -= weights[i];
            if (u <= 0) return i;
        }
        return weights.LastIndexOfAnyExcept(0d);
    }

    /// <summary>Weight buckets per octave for <see cref="Nucleus"/>, and how many octaves below the largest weight are bucketed.</summary>
    private const int BucketsPerOctave = 8, Octaves = 64;

    /// <summary>
    /// The nucleus (the heaviest tokens, the lower id first on equal weights, until their weight reaches
    /// <paramref name="target"/>) and a draw from it, without ordering the whole vocabulary: the weights (at most 1) are
    /// bucketed by their exponent and top mantissa bits, the heaviest buckets whose mass reaches the target hold every
    /// token of the nucleus, and only those tokens are sorted. Null when rounding leaves the sorted candidates just short
    /// of the target (then <see cref="NucleusByHeap"/> decides).
    /// </summary>
    private int? Nucleus(ReadOnlySpan<double> w, double target)
    {
        const int buckets = Octaves * BucketsPerOctave;
        Span<double> mass = stackalloc double[buckets + 1];
        Span<int> members = stackalloc int[buckets + 1];
        if (_buckets is null || _buckets.Length < w.Length) _buckets = new short[w.Length];
        var bucketOf = _buckets.AsSpan(0, w.Length);
        for (int i = 0; i < w.Length; i++)
        {
            int b = Bucket(w[i]);
            bucketOf[i] = (short)b;
            mass[b] += w[i];
            members[b]++;
        }
        int last = 0, count = members[0];
        double cumulative = mass[0];
        while (cumulative < target && last < buckets)
        {
            last++;
            cumulative += mass[last];
            count += members[last];
        }
        if (last == buckets) return null;

        if (_keys is null || _ids is null || _keys.Length < count) { _keys = new double[count]; _ids = new int[count]; }
        var keys = _keys.AsSpan(0, count);
        var ids = _ids.AsSpan(0, count);
        for (int i = 0, c = 0; i < w.Length; i++)
            if (bucketOf[i] <= last) { keys[c] = -w[i]; ids[c++] = i; }
        keys.Sort(ids);
        for (int a = 0, b; a < count; a = b)
        {
            // Equal weights go lower id first, as the heap orders them.
            for (b = a + 1; b < count && keys[b] == keys[a]; b++) { }
            if (b - a > 1) ids[a..b].Sort();
        }

        double kept = 0;
        int size = 0;
        while (size < count && kept < target) kept += w[ids[size++]];
        if (kept < target) return null;
        double u = _rng.NextDouble() * kept;
        for (int k = 0; k < size; k++)
        {
            u -= w[ids[k]];
            if (u <= 0) return ids[k];
        }
        return ids[size - 1];
    }

    /// <summary>0 for the weight 1 (the largest), growing as the weight falls; the last bucket holds what is left.</summary>
    private static int Bucket(double weight)
    {
        long bits = BitConverter.DoubleToInt64Bits(weight);
        int exponent = (int)(bits >> 52) & 0x7FF, top = (int)(bits >> (52 - 3)) & 7;
        int key = (1023 - exponent) * BucketsPerOctave + (BucketsPerOctave - 1 - top);
        return weight > 0 ? Math.Min(key, Octaves * BucketsPerOctave) : Octaves * BucketsPerOctave;
    }

    /// <summary>The nucleus through a heap built over the whole vocabulary, popped most likely first (the lower id on ties).</summary>
    private int NucleusByHeap(ReadOnlySpan<double> w, double target)
    {
        var weights = w.ToArray();
        var heap = new PriorityQueue<int, (double Weight, int Id)>(
            Enumerable.Range(0, weights.Length).Select(i => (i, (weights[i], i))),
            Comparer<(double Weight, int Id)>.Create((a, b) => a.Weight != b.Weight ? b.Weight.CompareTo(a.Weight) : a.Id.CompareTo(b.Id)));
        var nucleus = new List<int>();
        double kept = 0;
        while (heap.Count > 0 && kept < target)
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

    /// <summary>Index of the largest logit; the lower index among equals.</summary>
    public static int ArgMax(ReadOnlySpan<float> logits) => GreedyArgMax.Of(logits);

    /// <summary>log softmax of one logit row in double precision.</summary>
    public static double[] LogSoftmax(ReadOnlySpan<float> logits)
    {
        double lse = LogSumExp(logits);
        var r = new double[logits.Length];
        for (int i = 0; i < r.Length; i++) r[i] = logits[i] - lse;
        return r;
    }

    /// <summary>log Σ exp(l) of one logit row in double precision, the exponentials vectorised (a scalar loop was ~1 ms a 151,936-wide row).</summary>
    internal static double LogSumExp(ReadOnlySpan<float> logits)
    {
        double max = logits.IsEmpty ? double.NegativeInfinity : TensorPrimitives.Max(logits);
        if (_weights is null || _weights.Length < logits.Length) _weights = new double[logits.Length];
        var shifted = _weights.AsSpan(0, logits.Length);
        for (int i = 0; i < logits.Length; i++) shifted[i] = logits[i] - max;
        TensorPrimitives.Exp(shifted, shifted);
        return max + Math.Log(TensorPrimitives.Sum(shifted));
    }
}
