using Fse.Eval.Prompting;
using Fse.Eval.Tasks;
using Fse.Tests;

namespace Fse.Eval.Tests;

public class PromptAssemblyTests
{
    [Fact]
    public void Gsm8kFirstItemIsByteForByteLmEvals()
    {
        var plan = AccuracyPlan.Prepare(EvalTaskParser.BuiltIn("gsm8k"), SharedData.PathOf("gsm8k"), limit: 5);
        var first = plan.Items[0];
        // random.Random(1234).sample(range(7473), 5), then the next draws for items 1..4
        Assert.Equal([6374, 3610, 957, 61, 742], first.FewshotIndices);
        Assert.Equal([7462, 6610, 4769, 286, 5501], plan.Items[1].FewshotIndices);
        Assert.Equal([5677, 687, 806, 6279, 2905], plan.Items[2].FewshotIndices);
        Assert.Equal([1939, 142, 252, 6461, 129], plan.Items[3].FewshotIndices);
        Assert.Equal([2835, 5311, 5105, 3966, 5044], plan.Items[4].FewshotIndices);
        // SHA-256 of the prompts lm-eval's fewshot_context builds for test items 0..4 (computed with its own code)
        Assert.Equal(
            ["32680f263ba83280e98a8a24ceefed10a722a4cdcd9f4d78e93c45d43143ca66", "e6b9a0195411932e5323ed20ad05e965b08b979103bbb26594a5bdf123d27990",
             "97eb2662b11bbd7bd0423f898efde0e9a04d22028ed5fc1f80576965b0f570fa", "d86f60ba0709d975d0b08e350def68f8108dff3e64f376e672b43c37efa6ab8c",
             "7ab5fdf61e651fdd39df1d291472e30c4e941805064435e4b0723876eb35c1d7"],
            plan.Items.Select(i => i.PromptSha256));
        Assert.Equal(3187, first.Prompt.Length);
        Assert.StartsWith("Question: Jen and Tyler are gymnasts practicing flips.", first.Prompt);
        Assert.EndsWith("How much in dollars does she make every day at the farmers' market?\nAnswer:", first.Prompt);
        Assert.Contains("minutes.\n#### 240\n\nQuestion: A bear is preparing", first.Prompt);
        Assert.Equal(5, first.Prompt.Split("\n\nQuestion: ").Length - 1);
        Assert.EndsWith("#### 18", first.Reference);
    }

    [Fact]
    public void ALimitTakesTheFirstItemsWithTheSamePrompts()
    {
        var task = EvalTaskParser.BuiltIn("gsm8k");
        var two = AccuracyPlan.Prepare(task, SharedData.PathOf("gsm8k"), limit: 2);
        var five = AccuracyPlan.Prepare(task, SharedData.PathOf("gsm8k"), limit: 5);
        Assert.Equal(2, two.Items.Count);
        Assert.Equal(five.Items.Take(2).Select(i => i.Prompt), two.Items.Select(i => i.Prompt));
        Assert.Equal(1319, two.DocumentCount);
    }

    [Fact]
    public void ZeroShotIsTheQuestionAlone()
    {
        var plan = AccuracyPlan.Prepare(EvalTaskParser.BuiltIn("gsm8k"), SharedData.PathOf("gsm8k"), numFewshot: 0, limit: 1);
        Assert.StartsWith("Question: Janet", plan.Items[0].Prompt);
        Assert.EndsWith("\nAnswer:", plan.Items[0].Prompt);
        Assert.DoesNotContain("####", plan.Items[0].Prompt);
        Assert.Empty(plan.Items[0].FewshotIndices);
    }

    [Fact]
    public void SyntheticPromptIsExactlyLmEvals()
    {
        using var dir = new TempFolder();
        dir.WriteJsonl("train.jsonl", Synthetic.Train);
        dir.WriteJsonl("test.jsonl", Synthetic.Test);
        var plan = AccuracyPlan.Prepare(Synthetic.Task(dir));
        Assert.Equal([24, 14, 3], plan.Items[0].FewshotIndices);
        Assert.Equal(
            "Q: Train 24: how many naïve cats are left?\nA: Step 24 ×2 = 48.\n#### 48\n\n" +
            "Q: Train 14: how many apples are left?\nA: Step 14 ×2 = 28.\n#### 28\n\n" +
            "Q: Train 3: how many naïve cats are left?\nA: Step 3 ×2 = 6.\n#### 6\n\n" +
            "Q: Test A: what is 3 + 4?\nThink.\nA:",
            plan.Items[0].Prompt);
        Assert.Equal([0, 2, 29], plan.Items[1].FewshotIndices);
        Assert.Equal(["c12c34ffd455bb618b2c464183338e53e9f39648db607a01d127b226e48e2ab9", "3686f94139e2d4ea9a4a55d4eaa4c057e1cf2d5de83b7c5c0cf7ef61d02a6eb1"],
            plan.Items.Select(i => i.PromptSha256));
    }

    [Fact]
    public void SmallFewshotPoolsUseThePoolBranchOfSample()
    {
        using var dir = new TempFolder();
        dir.WriteJsonl("train.jsonl", Synthetic.Train.Take(8));
        dir.WriteJsonl("test.jsonl", Synthetic.Test);
        var plan = AccuracyPlan.Prepare(Synthetic.Task(dir));
        Assert.Equal([[7, 0, 6], [1, 6, 4]], plan.Items.Select(i => i.FewshotIndices.ToArray()));
        Assert.Equal(["69fcb174759b384a856f30ee280b02df4ac1420f95134a11fcc957d19ef67525", "e8eed5fc19249dde3d6f699bd0821cac06e3d75706bf31faf47a4c4380559350"],
            plan.Items.Select(i => i.PromptSha256));
    }

    [Fact]
    public void FirstNTakesTheFirstExamplesInOrder()
    {
        using var dir = new TempFolder();
        dir.WriteJsonl("train.jsonl", Synthetic.Train);
        dir.WriteJsonl("test.jsonl", Synthetic.Test);
        var plan = AccuracyPlan.Prepare(Synthetic.Task(dir, sampler: "first_n"));
        Assert.All(plan.Items, i => Assert.Equal([0, 1, 2], i.FewshotIndices));
        Assert.Equal(["d4da5ba365294cee9ed74dd7d525f9ff7a316f78dc7a779ac9c63ec363280094", "6892817a7176ad9a72f41086775b96a85e9f22979d62ff80485bb422835d5060"],
            plan.Items.Select(i => i.PromptSha256));
    }

    [Fact]
    public void FewshotFromTheScoredSplitDrawsOneMoreAndDropsTheItemItself()
    {
        using var dir = new TempFolder();
        dir.WriteJsonl("test.jsonl", Synthetic.Test.Concat(Synthetic.Train.Take(4)));
        var plan = AccuracyPlan.Prepare(Synthetic.Task(dir, fewshot: "test.jsonl"), limit: 2);
        Assert.Equal([[3, 4, 5], [4, 0, 5]], plan.Items.Select(i => i.FewshotIndices.ToArray()));
        Assert.Equal(
            "Q: Train 2: how many émigrés are left?\nA: Step 2 ×2 = 4.\n#### 4\n\nQ: Test A: what is 3 + 4?\nThink.\nA: 3 + 4 = 7\n#### 7\n\n" +
            "Q: Train 3: how many naïve cats are left?\nA: Step 3 ×2 = 6.\n#### 6\n\nQ: Test B: “quoted” 10 − 1?\nA:",
            plan.Items[1].Prompt);
        Assert.Equal("d3ee1755e1feb7bbc08a3f9691615800e80ec490bd21e5e626defad1b274bd31", plan.Items[0].PromptSha256);
    }
}
