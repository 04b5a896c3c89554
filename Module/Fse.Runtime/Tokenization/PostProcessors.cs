namespace Fse.Runtime.Tokenization;

/// <summary>A tokenizer.json post-processor, for single sequences: what Encode adds around the ids.</summary>
internal abstract class PostProcessor
{
    public abstract int[] Process(List<int> ids, bool addSpecialTokens);
}

/// <summary>ByteLevel (only trims offsets, which this tokenizer does not report) or no post-processor.</summary>
internal sealed class PassThroughPostProcessor : PostProcessor
{
    public static readonly PassThroughPostProcessor Instance = new();

    public override int[] Process(List<int> ids, bool addSpecialTokens) => [.. ids];
}

/// <summary>HF's TemplateProcessing (its "single" template): special tokens around sequence A.</summary>
internal sealed class TemplatePostProcessor(IReadOnlyList<int[]?> single) : PostProcessor
{
    // Each item is the ids of a special token, or null where the sequence goes.
    public override int[] Process(List<int> ids, bool addSpecialTokens)
    {
        if (!addSpecialTokens) return [.. ids];
        var result = new List<int>(ids.Count + 4);
        foreach (var item in single)
        {
            if (item is null) result.AddRange(ids);
            else result.AddRange(item);
        }
        return [.. result];
    }
}

/// <summary>HF's "Sequence" post-processor.</summary>
internal sealed class SequencePostProcessor(IReadOnlyList<PostProcessor> steps) : PostProcessor
{
    public override int[] Process(List<int> ids, bool addSpecialTokens)
    {
        foreach (var s in steps) ids = [.. s.Process(ids, addSpecialTokens)];
        return [.. ids];
    }
}
