using MathNet.Numerics;

namespace Fse.Eval.Statistics;

/// <summary>Which form of McNemar's test gave a p-value.</summary>
public enum McNemarMethod
{
    /// <summary>Two-sided exact binomial test on the discordant pairs: 2·P(X ≤ min(b, c)), X ~ Bin(b + c, ½), capped at 1.</summary>
    ExactBinomial,
    /// <summary>χ² with one degree of freedom and Edwards' continuity correction: (|b − c| − 1)² / (b + c).</summary>
    ChiSquareContinuityCorrected,
}

/// <summary>McNemar's test on paired correct/wrong outcomes of the same items under two configurations.</summary>
public sealed record McNemarResult(int BaselineOnlyCorrect, int CandidateOnlyCorrect, McNemarMethod Method, double Statistic, double PValue)
{
    /// <summary>The discordant pairs b + c.</summary>
    public int Discordant => BaselineOnlyCorrect + CandidateOnlyCorrect;

    public string MethodName => Method == McNemarMethod.ExactBinomial ? "exact binomial" : "chi-square (continuity-corrected)";
}

public static class McNemarTest
{
    /// <summary>Below this many discordant pairs the exact binomial test is used (the usual rule: the χ² approximation needs b + c ≥ 25).</summary>
    public const int ExactBelow = 25;

    /// <param name="b">Pairs the baseline got right and the candidate wrong.</param>
    /// <param name="c">Pairs the candidate got right and the baseline wrong.</param>
    public static McNemarResult Compute(int b, int c)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(b);
        ArgumentOutOfRangeException.ThrowIfNegative(c);
        int n = b + c;
        if (n < ExactBelow)
        {
            // Statistic: min(b, c), as statsmodels reports it for the exact test.
            double p = Math.Min(1.0, 2.0 * LowerTailOfFairCoin(n, Math.Min(b, c)));
            return new McNemarResult(b, c, McNemarMethod.ExactBinomial, Math.Min(b, c), p);
        }
        // As statsmodels: no clamp of |b − c| − 1 at zero.
        double d = Math.Abs(b - c) - 1.0;
        double chi2 = d * d / n;
        // The upper tail of χ²(1) is erfc(√(x/2)); computing it directly keeps small p-values accurate.
        return new McNemarResult(b, c, McNemarMethod.ChiSquareContinuityCorrected, chi2, SpecialFunctions.Erfc(Math.Sqrt(chi2 / 2)));
    }

    /// <summary>P(X ≤ k) for X ~ Bin(n, ½), summed in exact integers (n &lt; 63), so p-values such as 0.5 come out exact.</summary>
    internal static double LowerTailOfFairCoin(int n, int k)
    {
        if (n == 0) return 1.0;
        long term = 1, sum = 0;   // C(n, 0)
        for (int i = 0; i <= k; i++)
        {
            sum += term;
            term = term * (n - i) / (i + 1);
        }
        return sum / Math.Pow(2, n);
    }
}
