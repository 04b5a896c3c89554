using System.Collections.Concurrent;
using System.Text;

namespace Fse.Runtime.Tokenization;

/// <summary>
/// HF's BPE model: a vocabulary, ranked merges, and the merge loop of tokenizers' Word::merge_all (a priority
/// queue of adjacent pairs by merge rank, leftmost first on ties). Results per piece are cached.
/// </summary>
internal sealed class BpeModel
{
    private const int CacheCapacity = 200_000;
    private const int MaxCachedLength = 256;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<int, string> _idToToken;
    private readonly Dictionary<long, (int Rank, int NewId)> _merges;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly Dictionary<int, int> _singleCodePoint = [];
    private readonly int? _unkId;

    public BpeModel(Dictionary<string, int> vocab, IReadOnlyList<(string A, string B)> merges, BpeOptions options, Func<string, Exception> invalid)
    {
        _vocab = vocab;
        Options = options;
        _idToToken = new Dictionary<int, string>(vocab.Count);
        foreach (var (token, id) in vocab) _idToToken[id] = token;
        if (options.UnkToken is { } unk)
        {
            if (!vocab.TryGetValue(unk, out var unkId)) throw invalid($"unk_token '{unk}' is not in the vocabulary");
            _unkId = unkId;
        }
        var prefixLength = options.ContinuingSubwordPrefix?.Length ?? 0;
        _merges = new Dictionary<long, (int, int)>(merges.Count);
        for (var rank = 0; rank < merges.Count; rank++)
        {
            var (a, b) = merges[rank];
            if (!vocab.TryGetValue(a, out var aId)) throw invalid($"merge {rank} ('{a}' '{b}') names '{a}', which is not in the vocabulary");
            if (!vocab.TryGetValue(b, out var bId)) throw invalid($"merge {rank} ('{a}' '{b}') names '{b}', which is not in the vocabulary");
            var merged = a + b[Math.Min(prefixLength, b.Length)..];
            if (!vocab.TryGetValue(merged, out var newId)) throw invalid($"merge {rank} ('{a}' '{b}') makes '{merged}', which is not in the vocabulary");
            _merges[Key(aId, bId)] = (rank, newId);
        }
        foreach (var (token, id) in vocab)
        {
            if (token.Length == 1) _singleCodePoint[token[0]] = id;
            else if (token.Length == 2 && char.IsSurrogatePair(token[0], token[1])) _singleCodePoint[char.ConvertToUtf32(token[0], token[1])] = id;
        }
    }

    public BpeOptions Options { get; }

    public int Count => _vocab.Count;

    public IReadOnlyDictionary<string, int> Vocab => _vocab;

    public int MergeCount => _merges.Count;

    public bool TryGetId(string token, out int id) => _vocab.TryGetValue(token, out id);

    public bool TryGetToken(int id, out string token) => _idToToken.TryGetValue(id, out token!);

    /// <summary>The ids of one pre-tokenized piece.</summary>
    public void Tokenize(string piece, List<int> output)
    {
        if (piece.Length == 0) return;
        if (Options.IgnoreMerges && _vocab.TryGetValue(piece, out var whole))
        {
            output.Add(whole);
            return;
        }
        if (_cache.TryGetValue(piece, out var cached))
        {
            output.AddRange(cached);
            return;
        }
        var ids = MergeWord(piece);
        if (piece.Length < MaxCachedLength && _cache.Count < CacheCapacity) _cache.TryAdd(piece, ids);
        output.AddRange(ids);
    }

    private static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    private int[] MergeWord(string word)
    {
        var symbols = new List<int>(word.Length);
        int? pendingUnk = null;
        var index = 0;
        var hasAffixes = Options.ContinuingSubwordPrefix is not null || Options.EndOfWordSuffix is not null;
        while (index < word.Length)
        {
            var width = char.IsSurrogatePair(word, index) ? 2 : 1;
            var isFirst = index == 0;
            var isLast = index + width >= word.Length;
            int id;
            bool found;
            if (!hasAffixes)
            {
                var cp = width == 2 ? char.ConvertToUtf32(word[index], word[index + 1]) : word[index];
                found = _singleCodePoint.TryGetValue(cp, out id);
            }
            else
            {
                var s = word.Substring(index, width);
                if (!isFirst && Options.ContinuingSubwordPrefix is { } prefix) s = prefix + s;
                if (isLast && Options.EndOfWordSuffix is { } suffix) s += suffix;
                found = _vocab.TryGetValue(s, out id);
            }
            if (found)
            {
                if (pendingUnk is { } u) { symbols.Add(u); pendingUnk = null; }
                symbols.Add(id);
            }
            else if (Options.ByteFallback && TryByteFallback(word.Substring(index, width), symbols))
            {
                // HF leaves a pending unk in place here; the byte tokens follow it once it is flushed.
            }
            else if (_unkId is { } unk)
            {
                if (pendingUnk is not null && !Options.FuseUnk) symbols.Add(pendingUnk.Value);
                pendingUnk = unk;
            }
            index += width;
        }
        if (pendingUnk is { } last) symbols.Add(last);
        return symbols.Count < 2 ? [.. symbols] : MergeAll(symbols);
    }

    private bool TryByteFallback(string s, List<int> symbols)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        var ids = new int[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
        {
            if (!_vocab.TryGetValue($"<0x{bytes[i]:X2}>", out ids[i])) return false;
        }
        symbols.AddRange(ids);
        return true;
    }

    private int[] MergeAll(List<int> initial)
    {
        var n = initial.Count;
        var c = initial.ToArray();
        var prev = new int[n];
        var next = new int[n];
        var removed = new bool[n];
        for (var i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
        var queue = new PriorityQueue<(int Pos, int NewId), (int Rank, int Pos)>(n);
        for (var i = 0; i + 1 < n; i++)
        {
            if (_merges.TryGetValue(Key(c[i], c[i + 1]), out var m)) queue.Enqueue((i, m.NewId), (m.Rank, i));
        }
        while (queue.TryDequeue(out var top, out _))
        {
            var pos = top.Pos;
            if (removed[pos] || next[pos] < 0) continue;
            var right = next[pos];
            if (!_merges.TryGetValue(Key(c[pos], c[right]), out var current) || current.NewId != top.NewId) continue;
            c[pos] = top.NewId;
            removed[right] = true;
            next[pos] = next[right];
            if (next[right] >= 0) prev[next[right]] = pos;
            if (prev[pos] >= 0 && _merges.TryGetValue(Key(c[prev[pos]], c[pos]), out var left))
                queue.Enqueue((prev[pos], left.NewId), (left.Rank, prev[pos]));
            if (next[pos] >= 0 && _merges.TryGetValue(Key(c[pos], c[next[pos]]), out var after))
                queue.Enqueue((pos, after.NewId), (after.Rank, pos));
        }
        var result = new List<int>(n);
        for (var i = 0; i >= 0; i = next[i]) result.Add(c[i]);
        return [.. result];
    }
}

/// <summary>The options of HF's BPE model that change how a piece is encoded.</summary>
internal sealed record BpeOptions(
    string? UnkToken = null,
    bool FuseUnk = false,
    bool ByteFallback = false,
    bool IgnoreMerges = false,
    string? ContinuingSubwordPrefix = null,
    string? EndOfWordSuffix = null);
