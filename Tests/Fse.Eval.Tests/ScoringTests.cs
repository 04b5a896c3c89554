using Fse.Eval.Scoring;
using Fse.Eval.Statistics;
using Fse.Eval.Tasks;

namespace Fse.Eval.Tests;

/// <summary>Expected values were printed by CPython's re module running lm-eval's RegexFilter and exact_match logic.</summary>
public class ScoringTests
{
    private static readonly EvalTaskDefinition Gsm8k = EvalTaskParser.BuiltIn("gsm8k");

    [Theory]
    //          response                                       reference        strict       ok     flexible    ok
    [InlineData("The total is 1,000 apples.",                  "So #### 1000",  "[invalid]", false, "1,000",    true)]
    [InlineData("She pays $18.",                               "x #### 18",     "[invalid]", false, "$18.",     true)]
    [InlineData("It drops to -3",                              "#### -3",       "[invalid]", false, "-3",       true)]
    [InlineData("So 4 + 3 = 7.\n#### 7 followed by 2 cats",    "#### 7",        "7",         true,  "2",        false)]
    [InlineData("I do not know.",                              "#### 5",        "[invalid]", false, "[invalid]", false)]
    [InlineData("#### 1,000.",                                 "#### 1000",     "1,000.",    true,  "1,000.",   true)]
    [InlineData("The answer is 12.5",                          "#### 12.5",     "[invalid]", false, "12.5",     true)]
    [InlineData("#### $18",                                    "#### 18",       "[invalid]", false, "$18",      true)]
    [InlineData("#### -3.\n\nNext",                            "#### -3",       "-3.",       true,  "-3.",      true)]
    public void BothGsm8kFiltersAndExactMatchAgreeWithLmEval(string response, string reference, string strict, bool strictOk, string flexible, bool flexibleOk)
    {
        var scores = ItemScorer.Score(Gsm8k, response, reference);
        Assert.Equal(["strict-match", "flexible-extract"], scores.Select(s => s.Filter));
        Assert.Equal(strict, scores[0].Extracted);
        Assert.Equal(strictOk, scores[0].Correct);
        Assert.Equal(strict == "[invalid]", scores[0].Invalid);
        Assert.Equal(flexible, scores[1].Extracted);
        Assert.Equal(flexibleOk, scores[1].Correct);
        Assert.Equal(flexible == "[invalid]", scores[1].Invalid);
    }

    [Fact]
    public void ExactMatchNormalisesLikeLmEval()
    {
        var em = Gsm8k.Metric;
        Assert.Equal("1000", em.Normalise("Work: 1,000 apples\n#### 1,000"));   // (?s).*#### drops the reasoning, even across lines
        Assert.Equal("18", em.Normalise("$18."));
        Assert.True(em.IsMatch("ABC", "abc"));                                 // ignore_case
        Assert.False(em.IsMatch(" 18", "#### 18"));                            // exact_match itself does not strip
        Assert.False(em.IsMatch("18.0", "#### 18"));                           // only one trailing '.' goes, not ".0"
        var punct = new ExactMatch(ignorePunctuation: true, ignoreNumbers: true);
        Assert.True(punct.IsMatch("a-b!c 12", "abc "));
    }

    [Fact]
    public void RegexFilterFollowsPythonFindallForGroupsAndIndexes()
    {
        bool invalid = false;
        Assert.Equal("b", new RegexFilterStep(@"(\w)=", groupSelect: -1).Apply("a= b=", ref invalid));
        Assert.Equal("a=", new RegexFilterStep(@"\w=").Apply("  a= b=", ref invalid));       // no group: the whole match
        Assert.Equal("", new RegexFilterStep(@"x(y)?").Apply("x", ref invalid));            // one group that did not take part: ""
        Assert.False(invalid);
        Assert.Equal("none", new RegexFilterStep(@"(x)|(y)", fallback: "none").Apply("zzz", ref invalid));
        Assert.True(invalid);
        invalid = false;
        Assert.Equal("[invalid]", new RegexFilterStep(@"(x)", groupSelect: 3).Apply("x x", ref invalid));
        Assert.True(invalid);
        invalid = false;
        Assert.Equal("7", new RegexFilterStep(@"(?P<n>\d)-(?P=n)").Apply("1-2 7-7", ref invalid));   // Python group syntax
        Assert.Equal("q", new RegexFilterStep(@"(?P<a>q)(r)?").Apply("q", ref invalid));
    }

    [Fact]
    public void PythonStripUsesPythonsWhitespace()
    {
        Assert.Equal("7", PythonText.Strip("\u001c\u3000 7\u00a0\n\u001f"));
        Assert.Equal("i\u0307", PythonText.Lower("\u0130"));
    }

    [Fact]
    public void StopStringsCutInLmEvalsOrder()
    {
        string[] until = ["Question:", "</s>", "<|im_end|>"];
        Assert.Equal("#### 5\n\n", StopSequences.Truncate("#### 5\n\nQuestion: more #### 9", until));
        Assert.Equal("a", StopSequences.Truncate("a</s>b<|im_end|>Question:", until));
        Assert.Equal("unchanged", StopSequences.Truncate("unchanged", until));
        Assert.Equal("x", StopSequences.Truncate("x", ["", "y"]));
    }

    [Fact]
    public void StderrIsTheSampleStandardDeviationOverRootN()
    {
        Assert.Equal(0.25, MeanStderr.Stderr([1, 0, 1, 1]), 15);
        Assert.Equal(0.75, MeanStderr.Mean([1, 0, 1, 1]), 15);
        var rng = new Random(4242);
        var values = Enumerable.Range(0, 400).Select(_ => rng.NextDouble() < 0.63 ? 1.0 : 0.0).ToList();
        double p = values.Average();
        Assert.Equal(Math.Sqrt(p * (1 - p) / (values.Count - 1)), MeanStderr.Stderr(values), 12);   // the 0/1 closed form
        Assert.True(double.IsNaN(MeanStderr.Stderr([1.0])));
        Assert.True(double.IsNaN(MeanStderr.Mean([])));
    }

    [Theory]
    [InlineData(1, 9, McNemarMethod.ExactBinomial, 0.021484375)]            // 2·(1 + 10)/1024
    [InlineData(5, 5, McNemarMethod.ExactBinomial, 1.0)]
    [InlineData(0, 0, McNemarMethod.ExactBinomial, 1.0)]
    [InlineData(0, 6, McNemarMethod.ExactBinomial, 0.03125)]                // 2/64
    [InlineData(2, 0, McNemarMethod.ExactBinomial, 0.5)]                    // 2·¼, exactly
    [InlineData(3, 21, McNemarMethod.ExactBinomial, 0.0002771615982055664)]  // 2·(1 + 24 + 276 + 2024)/2²⁴
    [InlineData(12, 12, McNemarMethod.ExactBinomial, 1.0)]                  // b + c = 24: still exact
    [InlineData(10, 30, McNemarMethod.ChiSquareContinuityCorrected, 0.002663119259138554)]   // χ² = 19²/40; Python math.erfc
    [InlineData(40, 20, McNemarMethod.ChiSquareContinuityCorrected, 0.01417138825401233)]    // χ² = 19²/60
    public void McNemarOnKnownTables(int b, int c, McNemarMethod method, double p)
    {
        var r = McNemarTest.Compute(b, c);
        Assert.Equal(method, r.Method);
        Assert.Equal(p, r.PValue, 12);
        Assert.Equal(b + c, r.Discordant);
    }
}
