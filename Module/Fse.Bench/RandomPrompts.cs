namespace Fse.Bench;

/// <summary>How the benchmark sends its prompts.</summary>
public enum PromptMode
{
    /// <summary>Text checked through the server's /tokenize and /detokenize to have the exact token length.</summary>
    Text,

    /// <summary>Lists of token ids (the server offers no /tokenize): exact by construction.</summary>
    TokenIds,
}

/// <summary>One prompt: text or token ids, the token length it was made to have, and the requested output length.</summary>
public sealed record BenchmarkPrompt(string? Text, IReadOnlyList<int>? TokenIds, int PromptLength, int OutputLength);

/// <summary>The prompts of one grid point, how they are sent, and the tokens by which the text ones missed their target.</summary>
public sealed record PromptSet(IReadOnlyList<BenchmarkPrompt> Prompts, PromptMode Mode, int TokenMismatch);

/// <summary>What to draw: <paramref name="Count"/> prompts around the given lengths, from ids in [0, VocabSize).</summary>
public sealed record RandomPromptSpec(int Count, int InputLength, int OutputLength, double RangeRatio, int VocabSize, int Seed)
{
    public void Validate()
    {
        if (Count < 1) throw new ArgumentOutOfRangeException(nameof(Count), Count, "At least one prompt is needed.");
        if (InputLength < 1) throw new ArgumentOutOfRangeException(nameof(InputLength), InputLength, "The input length must be at least 1.");
        if (OutputLength < 1) throw new ArgumentOutOfRangeException(nameof(OutputLength), OutputLength, "The output length must be at least 1.");
        if (!(RangeRatio >= 0 && RangeRatio < 1)) throw new ArgumentOutOfRangeException(nameof(RangeRatio), RangeRatio, "The range ratio must be in [0, 1).");
        if (VocabSize < 2) throw new ArgumentOutOfRangeException(nameof(VocabSize), VocabSize, "The vocabulary must have at least 2 ids.");
        if (Math.Floor(InputLength * (1 - RangeRatio)) < 1)
            throw new ArgumentOutOfRangeException(nameof(RangeRatio), RangeRatio, $"With input length {InputLength} and range ratio {RangeRatio} a prompt could have no token.");
    }
}

/// <summary>
/// vLLM's random dataset (<c>RandomDataset.sample</c> and <c>gen_prompt_decode_to_target_len</c>): per request an input
/// length, an output length (both uniform in [⌊L·(1−r)⌋, ⌈L·(1+r)⌉], output at least 1) and an offset are drawn; the
/// prompt is the run of ids <c>(offset + i + j) mod V</c>; it is decoded to text and re-encoded, and while the length
/// is off, a longer sequence is cut to the target and a shorter one extended with random ids, up to 10 times.
/// Without a tokenizer the ids are sent as they are. The generator is seeded (<see cref="Random"/>, not numpy's PCG64,
/// so the ids differ from vLLM's for the same seed; the procedure and the lengths' distribution are the same).
/// The server's own special-token count is not subtracted (it cannot be known over HTTP); the true prompt length is
/// taken from <c>usage.prompt_tokens</c> when the requests run.
/// </summary>
public static class RandomPrompts
{
    public const int MaxRetries = 10;
    private const int TokenizeConcurrency = 16;

    public static async Task<PromptSet> GenerateAsync(RandomPromptSpec spec, IPromptTokenizer? tokenizer, CancellationToken ct)
    {
        spec.Validate();
        var rng = new Random(spec.Seed);
        var (inLow, inHigh) = Bounds(spec.InputLength, spec.RangeRatio);
        var (outLow, outHigh) = Bounds(spec.OutputLength, spec.RangeRatio);
        outLow = Math.Max(outLow, 1);
        outHigh = Math.Max(outHigh, 1);
        int n = spec.Count;
        var inputLens = Draw(rng, n, inLow, inHigh + 1);
        var outputLens = Draw(rng, n, outLow, outHigh + 1);
        var offsets = Draw(rng, n, 0, spec.VocabSize);
        var sequences = new int[n][];
        for (int i = 0; i < n; i++)
        {
            var seq = new int[inputLens[i]];
            for (int j = 0; j < seq.Length; j++) seq[j] = (int)(((long)offsets[i] + i + j) % spec.VocabSize);
            sequences[i] = seq;
        }

        if (tokenizer is null)
            return new PromptSet([.. Enumerable.Range(0, n).Select(i => new BenchmarkPrompt(null, sequences[i], inputLens[i], outputLens[i]))], PromptMode.TokenIds, 0);

        // The first decode/encode round draws nothing from the generator, so it runs concurrently; the rounds after
        // it extend sequences with random ids and run in request order, so the prompts do not depend on timing.
        var firstRound = new (string Text, IReadOnlyList<int> Tokens)[n];
        await Parallel.ForAsync(0, n, new ParallelOptions { MaxDegreeOfParallelism = TokenizeConcurrency, CancellationToken = ct }, async (i, token) =>
        {
            var text = await tokenizer.DetokenizeAsync(sequences[i], token).ConfigureAwait(false);
            firstRound[i] = (text, await tokenizer.TokenizeAsync(text, token).ConfigureAwait(false));
        }).ConfigureAwait(false);

        var prompts = new BenchmarkPrompt[n];
        int mismatch = 0;
        for (int i = 0; i < n; i++)
        {
            var (text, tokens, miss) = await DecodeToTargetLengthAsync(tokenizer, firstRound[i].Text, firstRound[i].Tokens, inputLens[i], spec.VocabSize, rng, ct).ConfigureAwait(false);
            mismatch += miss;
            prompts[i] = new BenchmarkPrompt(text, null, tokens, outputLens[i]);
        }
        return new PromptSet(prompts, PromptMode.Text, mismatch);
    }

    /// <summary>
    /// <c>gen_prompt_decode_to_target_len</c>, entered after its first decode/encode round: returns the text, its
    /// token length and by how much that misses the target after <see cref="MaxRetries"/> adjustments.
    /// </summary>
    private static async Task<(string Text, int Length, int Mismatch)> DecodeToTargetLengthAsync(
        IPromptTokenizer tokenizer, string text, IReadOnlyList<int> tokens, int target, int vocabSize, Random rng, CancellationToken ct)
    {
        int remaining = MaxRetries;
        while (true)
        {
            if (remaining <= 0) return (text, tokens.Count, tokens.Count - target);
            if (tokens.Count == target) return (text, target, 0);
            List<int> next;
            if (tokens.Count < target)
            {
                next = [.. tokens];
                for (int k = tokens.Count; k < target; k++) next.Add(rng.Next(0, vocabSize));
            }
            else
            {
                next = [.. tokens.Take(target)];
            }
            remaining--;
            text = await tokenizer.DetokenizeAsync(next, ct).ConfigureAwait(false);
            tokens = await tokenizer.TokenizeAsync(text, ct).ConfigureAwait(false);
        }
    }

    internal static (int Low, int High) Bounds(int length, double rangeRatio) =>
        ((int)Math.Floor(length * (1 - rangeRatio)), (int)Math.Ceiling(length * (1 + rangeRatio)));

    private static int[] Draw(Random rng, int n, int low, int highExclusive)
    {
        var values = new int[n];
        for (int i = 0; i < n; i++) values[i] = rng.Next(low, highExclusive);
        return values;
    }
}
