using Fse.Runtime.Inference;

namespace Fse.Runtime.Serving;

/// <summary>Log probabilities of one logit row (log_softmax in double precision, as <see cref="Inference.Sampler.LogSoftmax"/>).</summary>
internal static class LogprobMath
{
    /// <summary>The log probability of <paramref name="chosen"/> and the <paramref name="top"/> most likely tokens (ties: the lower id first).</summary>
    public static PositionLogprobs Compute(ReadOnlySpan<float> logits, int chosen, int top)
    {
        double lse = Sampler.LogSumExp(logits);
        top = Math.Clamp(top, 0, logits.Length);
        var best = new List<TokenLogprob>(top + 1);
        if (top > 0)
        {
            // Insertion into a short sorted list: O(V·k) for the small k the API allows.
            for (int i = 0; i < logits.Length; i++)
            {
                float l = logits[i];
                if (best.Count == top && l <= logits[best[^1].TokenId]) continue;
                int at = best.Count;
                while (at > 0 && logits[best[at - 1].TokenId] < l) at--;
                best.Insert(at, new TokenLogprob(i, l - lse));
                if (best.Count > top) best.RemoveAt(top);
            }
        }
        return new PositionLogprobs(chosen, logits[chosen] - lse, best);
    }
}
