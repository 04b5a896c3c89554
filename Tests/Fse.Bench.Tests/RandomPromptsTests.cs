namespace Fse.Bench.Tests;

public class RandomPromptsTests
{
    [Fact]
    public async Task WithoutATokenizerPromptsAreRunsOfTokenIdsOfTheExactLength()
    {
        var set = await RandomPrompts.GenerateAsync(new RandomPromptSpec(20, 300, 40, 0, 997, Seed: 5), null, default);
        Assert.Equal(PromptMode.TokenIds, set.Mode);
        Assert.Equal(20, set.Prompts.Count);
        for (int i = 0; i < set.Prompts.Count; i++)
        {
            var p = set.Prompts[i];
            Assert.Null(p.Text);
            Assert.Equal(300, p.TokenIds!.Count);
            Assert.Equal(300, p.PromptLength);
            Assert.Equal(40, p.OutputLength);
            Assert.All(p.TokenIds, t => Assert.InRange(t, 0, 996));
            // vLLM's sequence: (offset + i + j) mod V, consecutive ids from a random offset.
            for (int j = 1; j < p.TokenIds.Count; j++) Assert.Equal((p.TokenIds[j - 1] + 1) % 997, p.TokenIds[j]);
        }
        Assert.True(set.Prompts.Select(p => p.TokenIds![0]).Distinct().Count() > 15, "offsets are drawn per request");
    }

    [Fact]
    public async Task RangeRatioDrawsLengthsWithinFloorAndCeilBounds()
    {
        var set = await RandomPrompts.GenerateAsync(new RandomPromptSpec(400, 101, 9, 0.5, 5000, Seed: 9), null, default);
        Assert.All(set.Prompts, p => Assert.InRange(p.PromptLength, 50, 152));   // ⌊101·0.5⌋ .. ⌈101·1.5⌉
        Assert.All(set.Prompts, p => Assert.InRange(p.OutputLength, 4, 14));     // ⌊4.5⌋ .. ⌈13.5⌉
        Assert.Contains(set.Prompts, p => p.PromptLength == 50);
        Assert.Contains(set.Prompts, p => p.PromptLength == 152);
        Assert.True(set.Prompts.Select(p => p.OutputLength).Distinct().Count() == 11);
    }

    [Fact]
    public async Task TextPromptsAreAdjustedThroughTheTokenizerToTheExactLength()
    {
        var tokenizer = new InProcessTokenizer();
        var set = await RandomPrompts.GenerateAsync(new RandomPromptSpec(30, 257, 16, 0, 1000, Seed: 1234), tokenizer, default);
        Assert.Equal(PromptMode.Text, set.Mode);
        Assert.Equal(0, set.TokenMismatch);
        foreach (var p in set.Prompts)
        {
            Assert.Null(p.TokenIds);
            Assert.Equal(257, ScriptedTokenizer.Encode(p.Text!).Count);
            Assert.Equal(257, p.PromptLength);
        }
        // The scripted tokenizer changes lengths, so some prompts needed more than the first decode/encode round.
        Assert.True(tokenizer.Calls > 2 * 30);
    }

    [Fact]
    public async Task TheSameSeedGivesTheSamePromptsAndAnotherSeedOthers()
    {
        var spec = new RandomPromptSpec(12, 120, 8, 0.2, 1000, Seed: 77);
        var a = await RandomPrompts.GenerateAsync(spec, new InProcessTokenizer(), default);
        var b = await RandomPrompts.GenerateAsync(spec, new InProcessTokenizer(), default);
        var c = await RandomPrompts.GenerateAsync(spec with { Seed = 78 }, new InProcessTokenizer(), default);
        Assert.Equal(a.Prompts.Select(p => p.Text), b.Prompts.Select(p => p.Text));
        Assert.Equal(a.Prompts.Select(p => p.OutputLength), b.Prompts.Select(p => p.OutputLength));
        Assert.NotEqual(a.Prompts.Select(p => p.Text), c.Prompts.Select(p => p.Text));
    }

    [Fact]
    public async Task ATokenizerThatCannotConvergeIsReportedAsAMismatch()
    {
        // Every word re-encodes to two tokens: a prompt never reaches its length, and the miss is counted, not hidden.
        var set = await RandomPrompts.GenerateAsync(new RandomPromptSpec(3, 11, 4, 0, 1000, Seed: 2), new DoublingTokenizer(), default);
        Assert.Equal(3 * 11, set.TokenMismatch);
        Assert.All(set.Prompts, p => Assert.Equal(22, p.PromptLength));
    }

    [Theory]
    [InlineData(0, 10, 10, 0.0, 100)]
    [InlineData(1, 0, 10, 0.0, 100)]
    [InlineData(1, 10, 0, 0.0, 100)]
    [InlineData(1, 10, 10, 1.0, 100)]
    [InlineData(1, 1, 10, 0.5, 100)]
    [InlineData(1, 10, 10, 0.0, 1)]
    public void RejectsSpecsThatCannotMakeAPrompt(int count, int isl, int osl, double ratio, int vocab) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomPromptSpec(count, isl, osl, ratio, vocab, 0).Validate());

    private sealed class DoublingTokenizer : IPromptTokenizer
    {
        public Task<IReadOnlyList<int>> TokenizeAsync(string text, CancellationToken ct) =>
            Task.FromResult<IReadOnlyList<int>>([.. text.Split(' ', StringSplitOptions.RemoveEmptyEntries).SelectMany(_ => new[] { 1, 2 })]);

        public Task<string> DetokenizeAsync(IReadOnlyList<int> tokens, CancellationToken ct) =>
            Task.FromResult(string.Join(" ", tokens.Select(t => $"x{t}")));
    }
}
