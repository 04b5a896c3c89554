namespace Fse.Runtime.Serving;

/// <summary>
/// Cuts streamed text at the first stop string. Text is released as soon as it cannot be part of a stop string: a tail
/// that could still grow into one is held back until the next piece decides it. The released pieces concatenate to the
/// text before the first stop string (or the whole text when none occurs), optionally with the stop string itself.
/// </summary>
public sealed class StopStringMatcher
{
    private readonly string[] _stops;
    private readonly bool _includeStop;
    private string _held = "";

    public StopStringMatcher(IReadOnlyList<string> stops, bool includeStopString = false)
    {
        foreach (var s in stops)
            if (string.IsNullOrEmpty(s)) throw new ArgumentException("A stop string cannot be empty.", nameof(stops));
        _stops = [.. stops];
        _includeStop = includeStopString;
    }

    /// <summary>The stop string that ended the text, once one did.</summary>
    public string? Matched { get; private set; }

    /// <summary>Adds the next piece of text and returns what can be released now (possibly empty).</summary>
    public string Add(string piece)
    {
        if (Matched is not null) return "";
        if (_stops.Length == 0) return piece;
        var text = _held + piece;
        int best = -1;
        string? hit = null;
        foreach (var s in _stops)
        {
            int at = text.IndexOf(s, StringComparison.Ordinal);
            if (at >= 0 && (best < 0 || at < best || at == best && s.Length > hit!.Length))
            {
                best = at;
                hit = s;
            }
        }
        if (hit is not null)
        {
            Matched = hit;
            _held = "";
            return _includeStop ? text[..(best + hit.Length)] : text[..best];
        }
        int keep = LongestStopPrefixSuffix(text);
        _held = text[^keep..];
        return text[..^keep];
    }

    /// <summary>Ends the text: returns what was held back (nothing after a match).</summary>
    public string Flush()
    {
        var rest = Matched is null ? _held : "";
        _held = "";
        return rest;
    }

    /// <summary>The length of the longest suffix of <paramref name="text"/> that is a proper prefix of a stop string.</summary>
    private int LongestStopPrefixSuffix(string text)
    {
        int best = 0;
        foreach (var s in _stops)
        {
            for (int len = Math.Min(s.Length - 1, text.Length); len > best; len--)
            {
                if (text.AsSpan(text.Length - len).SequenceEqual(s.AsSpan(0, len)))
                {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }
}
