using System.Runtime.CompilerServices;
using Fse.Runtime.Tokenization;

namespace Fse.Runtime.Serving;

/// <summary>How generated tokens become text.</summary>
public sealed record TextOptions
{
    /// <summary>Strings that end the text; the text is cut before the first (see <see cref="StopStringMatcher"/>).</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Keep the matched stop string in the text (vLLM's <c>include_stop_str_in_output</c>).</summary>
    public bool IncludeStopString { get; init; }

    /// <summary>Leave special tokens (such as &lt;|im_end|&gt;) out of the text, as vLLM does by default.</summary>
    public bool SkipSpecialTokens { get; init; } = true;
}

/// <summary>One generated token as a run reports it.</summary>
public readonly record struct GeneratedToken(int TokenId, PositionLogprobs? Logprobs);

/// <summary>
/// What a run adds at one engine step: released text, the tokens behind it, prompt log probabilities (with the first
/// token), and the end.
/// </summary>
public sealed record CompletionDelta
{
    public string Text { get; init; } = "";
    public IReadOnlyList<GeneratedToken> Tokens { get; init; } = [];

    /// <summary>Log probabilities of prompt positions 1, 2, ... (set once, on the first delta that carries a token).</summary>
    public IReadOnlyList<PositionLogprobs>? PromptLogprobs { get; init; }

    /// <summary>"stop", "length", "abort" or "error" on the last delta; null before.</summary>
    public string? FinishReason { get; init; }

    /// <summary>The stop string that ended the text, if one did.</summary>
    public string? StopString { get; init; }

    public string? Error { get; init; }
}

/// <summary>
/// One completion choice on an engine: submits the request, turns the engine's tokens into text with a streaming
/// detokenizer, cuts it at stop strings (cancelling the sequence at once when one matches), and yields one delta per
/// engine output. Cancelling the enumeration (a client that went away) cancels the sequence, which frees its cache.
/// </summary>
public sealed class CompletionRun
{
    private readonly Tokenizer? _tokenizer;
    private readonly TextOptions _text;

    /// <exception cref="EngineRequestException">The request is invalid, or stop strings were given without a tokenizer.</exception>
    /// <exception cref="EngineUnavailableException">The engine takes no requests.</exception>
    /// <exception cref="EngineBusyException">Too many requests wait.</exception>
    public CompletionRun(InferenceEngine engine, EngineRequest request, Tokenizer? tokenizer, TextOptions? text = null)
    {
        _text = text ?? new TextOptions();
        _tokenizer = tokenizer;
        if (tokenizer is null && _text.StopStrings.Count > 0)
            throw new EngineRequestException("This model has no tokenizer, so stop strings cannot be matched: use stop_token_ids.", "stop");
        Sequence = engine.Submit(request);
    }

    public EngineSequence Sequence { get; }

    /// <summary>Tokens this run consumed (up to the one that completed a stop string).</summary>
    public int CompletionTokens { get; private set; }

    /// <summary>The whole text released so far.</summary>
    public string Text => _released.ToString();

    private readonly System.Text.StringBuilder _released = new();

    public async IAsyncEnumerable<CompletionDelta> ReadAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        var decoder = _tokenizer?.CreateStreamingDecoder(_text.SkipSpecialTokens);
        var stops = new StopStringMatcher(_text.StopStrings, _text.IncludeStopString);
        var prompt = new SortedDictionary<int, PositionLogprobs>();
        bool promptSent = Sequence.Request.PromptLogprobs is null;
        bool finished = false;
        try
        {
            await foreach (var o in Sequence.Outputs.ReadAllAsync(ct).ConfigureAwait(false))
            {
                if (o.PromptLogprobs is { } pl)
                    foreach (var (pos, lp) in pl) prompt[pos] = lp;
                var tokens = new List<GeneratedToken>(1);
                var text = "";
                string? finish = null;
                if (o.TokenId is { } id)
                {
                    tokens.Add(new GeneratedToken(id, o.Logprobs));
                    CompletionTokens++;
                    if (decoder is not null) text = stops.Add(decoder.Add(id));
                    if (stops.Matched is not null)
                    {
                        finish = "stop";
                        Sequence.Cancel();   // nothing after the stop string is wanted: free the sequence now
                    }
                }
                if (finish is null && o.Finish is { } f)
                {
                    finish = f switch
                    {
                        Serving.FinishReason.Stop => "stop",
                        Serving.FinishReason.Length => "length",
                        Serving.FinishReason.Abort => "abort",
                        _ => "error",
                    };
                    if (decoder is not null) text += stops.Add(decoder.Flush()) + stops.Flush();
                }
                if (tokens.Count == 0 && finish is null && promptSent) continue;   // prompt log probabilities still arriving
                IReadOnlyList<PositionLogprobs>? promptOut = null;
                if (!promptSent && (tokens.Count > 0 || finish is not null))
                {
                    promptOut = [.. prompt.Values];
                    promptSent = true;
                }
                else if (tokens.Count == 0 && finish is null) continue;
                _released.Append(text);
                finished = finish is not null;
                yield return new CompletionDelta
                {
                    Text = text,
                    Tokens = tokens,
                    PromptLogprobs = promptOut,
                    FinishReason = finish,
                    StopString = stops.Matched,
                    Error = finish == "error" ? o.Error : null,
                };
                if (finished) yield break;
            }
        }
        finally
        {
            if (!finished) Sequence.Cancel();
        }
    }
}
