using System.Text.Json;
using Fse.Runtime.Serving;

namespace Fse.Server.Api;

/// <summary>
/// The <c>logprobs</c> object of a completion choice (OpenAI's legacy shape): <c>tokens</c>, <c>token_logprobs</c>,
/// <c>top_logprobs</c> (the <c>logprobs</c> most likely tokens plus the chosen one, keyed by token text) and
/// <c>text_offset</c>. An echoed prompt's first token has null log probabilities: nothing precedes it.
/// </summary>
internal sealed class CompletionLogprobsWriter(ServerState state, int top, int startOffset = 0)
{
    private readonly List<(string Token, double? Logprob, PositionLogprobs? Position)> _entries = [];
    private int _offset = startOffset;

    /// <summary>The text offset after the last token added (where a following chunk continues).</summary>
    public int EndOffset => _offset;

    public void AddPrompt(int[] ids, IReadOnlyList<PositionLogprobs>? logprobs)
    {
        for (int i = 0; i < ids.Length; i++)
        {
            var lp = i > 0 && logprobs is not null && i - 1 < logprobs.Count ? logprobs[i - 1] : null;
            Add(ids[i], lp);
        }
    }

    public void AddGenerated(IEnumerable<GeneratedToken> tokens)
    {
        foreach (var t in tokens) Add(t.TokenId, t.Logprobs);
    }

    private void Add(int id, PositionLogprobs? lp)
    {
        var text = state.TokenText(id);
        _entries.Add((text, lp?.Logprob, lp));
    }

    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteStartArray("text_offset");
        foreach (var e in _entries)
        {
            w.WriteNumberValue(_offset);
            _offset += e.Token.Length;
        }
        w.WriteEndArray();
        w.WriteStartArray("token_logprobs");
        foreach (var e in _entries)
        {
            if (e.Logprob is { } l) JsonOut.Logprob(w, l);
            else w.WriteNullValue();
        }
        w.WriteEndArray();
        w.WriteStartArray("tokens");
        foreach (var e in _entries) w.WriteStringValue(e.Token);
        w.WriteEndArray();
        w.WriteStartArray("top_logprobs");
        foreach (var e in _entries)
        {
            if (e.Position is not { } p)
            {
                w.WriteNullValue();
                continue;
            }
            w.WriteStartObject();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var t in p.Top.Take(top))
            {
                var key = state.TokenText(t.TokenId);
                if (seen.Add(key)) JsonOut.Logprob(w, key, t.Logprob);
            }
            if (seen.Add(e.Token)) JsonOut.Logprob(w, e.Token, p.Logprob);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
