namespace Fse.Kernels.Tests;

/// <summary>Straightforward float64 versions of the ops, written from SEMANTICS.md and the HF code, to test the backends against.</summary>
internal static class Reference
{
    public static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    public static double Silu(double x) => x * Sigmoid(x);

    public static double[] Softmax(ReadOnlySpan<double> x)
    {
        double max = double.NegativeInfinity;
        foreach (var v in x) max = Math.Max(max, v);
        var e = new double[x.Length];
        double sum = 0;
        for (int i = 0; i < x.Length; i++) sum += e[i] = Math.Exp(x[i] - max);
        for (int i = 0; i < x.Length; i++) e[i] /= sum;
        return e;
    }

    /// <summary>
    /// Dense causal grouped-query attention of one sequence: q [n, heads, hd], k and v [n, kvHeads, hd] → [n, heads, hd],
    /// query head h reading kv head h / (heads / kvHeads).
    /// </summary>
    public static double[] CausalAttention(float[] q, float[] k, float[] v, int n, int heads, int kvHeads, int hd, double scale)
    {
        var output = new double[n * heads * hd];
        for (int p = 0; p < n; p++)
            for (int h = 0; h < heads; h++)
            {
                int kvh = h / (heads / kvHeads);
                var scores = new double[p + 1];
                for (int j = 0; j <= p; j++)
                {
                    double dot = 0;
                    for (int d = 0; d < hd; d++) dot += q[(p * heads + h) * hd + d] * (double)k[(j * kvHeads + kvh) * hd + d];
                    scores[j] = dot * scale;
                }
                var pr = Softmax(scores);
                for (int d = 0; d < hd; d++)
                    for (int j = 0; j <= p; j++) output[(p * heads + h) * hd + d] += pr[j] * v[(j * kvHeads + kvh) * hd + d];
            }
        return output;
    }

    /// <summary>Indices of the k largest values, descending, ties to the lower index.</summary>
    public static int[] TopK(double[] v, int k) =>
        Enumerable.Range(0, v.Length).OrderByDescending(i => v[i]).ThenBy(i => i).Take(k).ToArray();

    /// <summary>The recurrent gated delta rule for one head exactly as HF's torch_recurrent_gated_delta_rule.</summary>
    public static double[][] DeltaRule(double[][] q, double[][] k, double[][] v, double[] g, double[] beta, double[,] state)
    {
        int dk = k[0].Length, dv = v[0].Length;
        var outs = new double[q.Length][];
        for (int t = 0; t < q.Length; t++)
        {
            double decay = Math.Exp(g[t]);
            for (int a = 0; a < dk; a++) for (int b = 0; b < dv; b++) state[a, b] *= decay;
            var delta = new double[dv];
            for (int b = 0; b < dv; b++)
            {
                double mem = 0;
                for (int a = 0; a < dk; a++) mem += state[a, b] * k[t][a];
                delta[b] = (v[t][b] - mem) * beta[t];
            }
            for (int a = 0; a < dk; a++) for (int b = 0; b < dv; b++) state[a, b] += k[t][a] * delta[b];
            outs[t] = new double[dv];
            for (int b = 0; b < dv; b++)
            {
                double o = 0;
                for (int a = 0; a < dk; a++) o += state[a, b] * q[t][a];
                outs[t][b] = o;
            }
        }
        return outs;
    }

    public static float[] Random(Random rng, int n, float scale = 1f) =>
        Enumerable.Range(0, n).Select(_ => scale * (float)(2 * rng.NextDouble() - 1)).ToArray();

    public static double MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<double> b)
    {
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }
}
