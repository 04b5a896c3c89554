namespace Fse.Bench.Tests;

/// <summary>
/// A tokenizer whose decode/encode round trip is NOT the identity, like real BPE: ids decode to words "w{id}";
/// encoding maps a word back to its id, except that ids ending in 3 come back as two tokens (id−3, id−2) and ids
/// ending in 7 vanish. So a decoded run of random ids re-encodes longer or shorter, and the prompt generator has to
/// adjust it to the exact length.
/// </summary>
public static class ScriptedTokenizer
{
    public static string Decode(IEnumerable<int> ids) => string.Join(" ", ids.Select(i => $"w{i}"));

    public static List<int> Encode(string text)
    {
        var ids = new List<int>();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!word.StartsWith('w') || !int.TryParse(word.AsSpan(1), out var id)) { ids.Add(word.Length); continue; }
            switch (id % 10)
            {
                case 3: ids.Add(id - 3); ids.Add(id - 2); break;
                case 7: break;
                default: ids.Add(id); break;
            }
        }
        return ids;
    }
}

/// <summary>The scripted tokenizer in-process, for prompt tests that need no HTTP.</summary>
public sealed class InProcessTokenizer : IPromptTokenizer
{
    public int Calls;

    public Task<IReadOnlyList<int>> TokenizeAsync(string text, CancellationToken ct)
    {
        Interlocked.Increment(ref Calls);
        return Task.FromResult<IReadOnlyList<int>>(ScriptedTokenizer.Encode(text));
    }

    public Task<string> DetokenizeAsync(IReadOnlyList<int> tokens, CancellationToken ct)
    {
        Interlocked.Increment(ref Calls);
        return Task.FromResult(ScriptedTokenizer.Decode(tokens));
    }
}
