using Fse.Runtime.Tokenization.Unicode;

namespace Fse.Runtime.Tokenization;

/// <summary>
/// Trains a byte-level BPE tokenizer of the Qwen kind (NFC, Qwen's pre-tokenizer regex, 256 byte tokens, ranked
/// merges, special tokens &lt;|endoftext|&gt;, &lt;|im_start|&gt;, &lt;|im_end|&gt; at the end) to an exact vocabulary size.
/// Merges are learned from the corpus (most frequent adjacent pair first, ties to the lowest ids) while some pair
/// occurs at least <see cref="MinFrequency"/> times; when the corpus runs out of pairs, the rest of the vocabulary
/// is filled with synthetic merges (an existing token followed by a byte, in a fixed order), so any size up to
/// Qwen's 151,936 is reached in seconds from a small corpus. Deterministic: the same corpus and size give the same
/// files. The result loads in <see cref="Tokenizer"/> and in HF tokenizers / transformers.
/// </summary>
public sealed class BpeTrainer
{
    /// <summary>Qwen2/Qwen3's pre-tokenizer pattern (an Oniguruma regex, as in their tokenizer.json).</summary>
    public const string QwenPattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>The special tokens, in id order after the BPE vocabulary.</summary>
    public static IReadOnlyList<string> SpecialTokens { get; } = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

    private static readonly Lazy<SplitPreTokenizer> QwenSplit = new(() => new SplitPreTokenizer(new OnigPattern(QwenPattern), null, SplitBehavior.Isolated, false));

    public BpeTrainer(int vocabSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 256 + SpecialTokens.Count, nameof(vocabSize));
        VocabSize = vocabSize;
    }

    /// <summary>Every id, special tokens included: the trained tokenizer's <see cref="Tokenizer.VocabSize"/>.</summary>
    public int VocabSize { get; }

    /// <summary>The least number of occurrences for a pair to be merged from the corpus.</summary>
    public int MinFrequency { get; init; } = 2;

    /// <summary>A few KB of English and arithmetic word problems embedded in Fse.Runtime (not GSM8K).</summary>
    public static string BuiltInCorpus => BuiltInCorpusText.Value;

    private static readonly Lazy<string> BuiltInCorpusText = new(() =>
    {
        using var s = typeof(BpeTrainer).Assembly.GetManifestResourceStream("Fse.Runtime.Tokenization.BuiltInCorpus.txt")
            ?? throw new InvalidOperationException("The embedded resource BuiltInCorpus.txt is missing from Fse.Runtime.");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    });

    /// <summary>Trains on the built-in corpus and writes tokenizer.json and tokenizer_config.json into <paramref name="directory"/>.</summary>
    public static void WriteBuiltIn(string directory, int vocabSize) => new BpeTrainer(vocabSize).Train([BuiltInCorpus]).Write(directory);

    public TrainedBpe Train(IEnumerable<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var wordCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        var pieces = new List<string>();
        var byteLevel = new ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: false);
        foreach (var text in texts)
        {
            pieces.Clear();
            pieces.Add(UnicodeNormalizer.Normalize(CodePoints.ReplaceLoneSurrogates(text), NormalizationKind.Nfc));
            QwenSplit.Value.Split(pieces);
            byteLevel.Split(pieces);
            foreach (var p in pieces) wordCounts[p] = wordCounts.GetValueOrDefault(p) + 1;
        }

        var tokens = new List<string>(VocabSize);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var alphabet = ByteLevelAlphabet.Characters.ToArray();
        Array.Sort(alphabet);
        foreach (var c in alphabet) Add(c.ToString());
        var bpeSize = VocabSize - SpecialTokens.Count;
        var merges = new List<(string, string)>(bpeSize - 256);

        // Words as id sequences, sorted so that iteration order (and so every tie) is fixed.
        var words = wordCounts.OrderBy(w => w.Key, StringComparer.Ordinal)
            .Select(w => (Symbols: w.Key.Select(ch => ids[ch.ToString()]).ToList(), Count: w.Value)).ToList();
        var pairCounts = new Dictionary<long, long>();
        var pairWords = new Dictionary<long, HashSet<int>>();
        var banned = new HashSet<long>();
        for (var w = 0; w < words.Count; w++) CountPairs(w, +1);

        while (tokens.Count < bpeSize)
        {
            long best = -1, bestCount = 0;
            foreach (var (pair, count) in pairCounts)
            {
                if (banned.Contains(pair)) continue;
                if (count > bestCount || count == bestCount && count > 0 && pair < best) { best = pair; bestCount = count; }
            }
            if (bestCount < MinFrequency) break;
            var (a, b) = ((int)(best >> 32), (int)(best & 0xFFFFFFFF));
            var merged = tokens[a] + tokens[b];
            if (ids.ContainsKey(merged))
            {
                banned.Add(best);      // the same string was already made from another pair
                continue;
            }
            var newId = Add(merged);
            merges.Add((tokens[a], tokens[b]));
            foreach (var w in pairWords[best].Order().ToList())
            {
                CountPairs(w, -1);
                var s = words[w].Symbols;
                for (var i = 0; i + 1 < s.Count; i++)
                {
                    if (s[i] == a && s[i + 1] == b) { s[i] = newId; s.RemoveAt(i + 1); }
                }
                CountPairs(w, +1);
            }
        }
        var corpusMerges = merges.Count;

        // Synthetic merges: token + byte, bytes in a fixed order of usefulness, tokens in id order.
        var byteOrder = SyntheticByteOrder();
        for (var round = 0; tokens.Count < bpeSize; round++)
        {
            var snapshot = tokens.Count;
            foreach (var b in byteOrder)
            {
                var right = ByteLevelAlphabet.CharOf(b).ToString();
                for (var a = 0; a < snapshot && tokens.Count < bpeSize; a++)
                {
                    var merged = tokens[a] + right;
                    if (ids.ContainsKey(merged)) continue;
                    merges.Add((tokens[a], right));
                    Add(merged);
                }
                if (tokens.Count >= bpeSize) break;
            }
        }
        return new TrainedBpe(tokens, merges, corpusMerges);

        int Add(string token)
        {
            ids[token] = tokens.Count;
            tokens.Add(token);
            return tokens.Count - 1;
        }

        void CountPairs(int w, int sign)
        {
            var (s, count) = words[w];
            for (var i = 0; i + 1 < s.Count; i++)
            {
                var key = ((long)s[i] << 32) | (uint)s[i + 1];
                var c = pairCounts.GetValueOrDefault(key) + sign * count;
                if (c <= 0) pairCounts.Remove(key);
                else pairCounts[key] = c;
                if (sign > 0)
                {
                    if (!pairWords.TryGetValue(key, out var set)) pairWords[key] = set = [];
                    set.Add(w);
                }
            }
        }
    }

    // Lowercase letters, the space, digits, uppercase, punctuation, then every other byte.
    private static List<byte> SyntheticByteOrder()
    {
        var order = new List<byte>();
        foreach (var c in "etaoinshrdlcumwfgypbvkjxqz") order.Add((byte)c);
        order.Add((byte)' ');
        foreach (var c in "0123456789ETAOINSHRDLCUMWFGYPBVKJXQZ.,'\"-:;?!()$%/+*=\n") order.Add((byte)c);
        for (var b = 0; b < 256; b++)
            if (!order.Contains((byte)b)) order.Add((byte)b);
        return order;
    }
}
