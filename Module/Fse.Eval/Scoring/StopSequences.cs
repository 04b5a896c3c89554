namespace Fse.Eval.Scoring;

/// <summary>
/// Client-side <c>until</c> handling as lm-eval's HF, vLLM and chat-completions backends do it
/// (<c>postprocess_generated_text</c>): for each non-empty stop string in order, keep the text before its first
/// occurrence. A server that honours <c>stop</c> has already cut there; one that does not is scored the same way.
/// </summary>
public static class StopSequences
{
    public static string Truncate(string text, IReadOnlyList<string> until)
    {
        foreach (var term in until)
        {
            if (term.Length == 0) continue;
            int at = text.IndexOf(term, StringComparison.Ordinal);
            if (at >= 0) text = text[..at];
        }
        return text;
    }
}
