using Fse.Runtime.Inference;
using Fse.Runtime.Tokenization;

namespace Fse.Runtime.Tests.Demo;

/// <summary>
/// A text completion on a loaded model as the OpenAI server answers one: greedy, ended by an EOS id, by max tokens, or
/// by the first stop string in the decoded text (which is cut off, with everything after it).
/// </summary>
public sealed class LocalCompletion(Generator generator, Tokenizer tokenizer)
{
    private readonly int[] _eos = [.. generator.Model.Config.EosTokenIds.Concat(tokenizer.EosTokenId is { } e ? [e] : []).Distinct()];

    public string Complete(string prompt, int maxTokens, IReadOnlyList<string> until)
    {
        var decoder = tokenizer.CreateStreamingDecoder(skipSpecialTokens: true);
        var text = new System.Text.StringBuilder();
        using var stop = new CancellationTokenSource();
        void OnToken(int id)
        {
            if (_eos.Contains(id)) return;
            text.Append(decoder.Add(id));
            if (until.Any(u => text.ToString().Contains(u, StringComparison.Ordinal))) stop.Cancel();
        }
        try
        {
            generator.Generate(tokenizer.Encode(prompt), maxTokens, SamplingParams.Greedy, _eos, OnToken, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // A stop string was generated: the text so far is the answer.
        }
        text.Append(decoder.Flush());
        return Cut(text.ToString(), until);
    }

    private static string Cut(string text, IReadOnlyList<string> until)
    {
        int at = text.Length;
        foreach (var u in until)
        {
            int i = text.IndexOf(u, StringComparison.Ordinal);
            if (i >= 0 && i < at) at = i;
        }
        return text[..at];
    }
}
