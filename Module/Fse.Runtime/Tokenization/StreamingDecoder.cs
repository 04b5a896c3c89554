using System.Runtime.InteropServices;

namespace Fse.Runtime.Tokenization;

/// <summary>
/// Incremental detokenization for streaming: <see cref="Add(int)"/> takes ids one at a time and returns the text
/// that is complete so far, holding back the bytes of a UTF-8 character that is not finished yet (a token may end
/// in the middle of one: Qwen splits many CJK characters and emoji over two or three tokens).
/// The outputs of Add, followed by <see cref="Flush"/>, concatenate to exactly
/// <see cref="Tokenizer.Decode(ReadOnlySpan{int}, bool)"/> of all the ids. Not thread-safe: one per stream.
/// </summary>
public sealed class StreamingDecoder
{
    private readonly Tokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly List<byte> _pending = [];
    private bool _emittedAny;

    internal StreamingDecoder(Tokenizer tokenizer, bool skipSpecialTokens)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>The number of bytes held back (the start of an unfinished UTF-8 character).</summary>
    public int PendingByteCount => _pending.Count;

    /// <summary>Takes one id and returns the newly completed text (possibly empty).</summary>
    /// <exception cref="Fse.Runtime.Checkpoints.CheckpointException">The id is outside the vocabulary (kind TokenOutOfRange).</exception>
    public string Add(int id)
    {
        if (!_tokenizer.DecodesBytes)
        {
            var token = _tokenizer.TokenOf(id);
            if (_skipSpecialTokens && _tokenizer.IsSpecial(id)) return "";
            var text = _emittedAny ? " " + token : token;
            _emittedAny = true;
            return text;
        }
        var bytes = _tokenizer.TokenBytes(id);
        if (_skipSpecialTokens && _tokenizer.IsSpecial(id)) return "";
        _pending.AddRange(bytes);
        var complete = CompletePrefixLength(CollectionsMarshal.AsSpan(_pending));
        if (complete == 0) return "";
        var result = Tokenizer.Utf8Lossy(CollectionsMarshal.AsSpan(_pending)[..complete]);
        _pending.RemoveRange(0, complete);
        return result;
    }

    /// <summary>Takes several ids and returns the newly completed text.</summary>
    public string Add(ReadOnlySpan<int> ids)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var id in ids) sb.Append(Add(id));
        return sb.ToString();
    }

    /// <summary>Ends the stream: returns what is held back, an unfinished character as U+FFFD, as Decode would.</summary>
    public string Flush()
    {
        var result = Tokenizer.Utf8Lossy(CollectionsMarshal.AsSpan(_pending));
        _pending.Clear();
        return result;
    }

    /// <summary>
    /// How many leading bytes can be decoded now: all of them, unless the buffer ends with the start of a UTF-8
    /// sequence that more bytes could still complete. Cutting just before a lead byte never changes how a decoder
    /// that replaces maximal ill-formed subparts (Rust's from_utf8_lossy, .NET's UTF8Encoding) reads the rest.
    /// </summary>
    internal static int CompletePrefixLength(ReadOnlySpan<byte> b)
    {
        var n = b.Length;
        for (var back = 1; back <= Math.Min(3, n); back++)
        {
            var p = n - back;
            var lead = b[p];
            if ((lead & 0xC0) == 0x80) continue;           // a continuation byte: look further back
            var need = lead switch
            {
                >= 0xC2 and <= 0xDF => 2,
                >= 0xE0 and <= 0xEF => 3,
                >= 0xF0 and <= 0xF4 => 4,
                _ => 0,
            };
            if (need <= back) return n;                     // complete, ASCII, or not a lead byte at all
            // The bytes after the lead must be what a well-formed sequence allows so far.
            for (var k = p + 1; k < n; k++)
            {
                var (lo, hi) = k == p + 1 ? SecondByteRange(lead) : ((byte)0x80, (byte)0xBF);
                if (b[k] < lo || b[k] > hi) return n;
            }
            return p;
        }
        return n;
    }

    private static (byte Lo, byte Hi) SecondByteRange(byte lead) => lead switch
    {
        0xE0 => (0xA0, 0xBF),
        0xED => (0x80, 0x9F),
        0xF0 => (0x90, 0xBF),
        0xF4 => (0x80, 0x8F),
        _ => (0x80, 0xBF),
    };
}
