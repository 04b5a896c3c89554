namespace Fse.Eval;

/// <summary>
/// One test item under one filter: what was asked (the prompt's hash), what came back, what the filter extracted and
/// whether it matched. Records of two runs pair up by (Task, Filter, Index) for McNemar's test; equal
/// <see cref="PromptSha256"/> values show the two runs asked the same question.
/// </summary>
public sealed record FseAccuracyItem
{
    public required string Task { get; init; }

    /// <summary>The item's 0-based position in the test split.</summary>
    public required int Index { get; init; }

    public required string Filter { get; init; }

    /// <summary>SHA-256 (lower-case hex) of the prompt's UTF-8 bytes.</summary>
    public required string PromptSha256 { get; init; }

    /// <summary>The generated text as scored: cut at the first stop string. Null when the item failed.</summary>
    public string? Response { get; init; }

    /// <summary>What the filter extracted ("[invalid]" when nothing matched). Null when the item failed.</summary>
    public string? Extracted { get; init; }

    /// <summary>The reference target (for gsm8k the whole answer, ending in "#### n").</summary>
    public required string Reference { get; init; }

    /// <summary>The extraction after exact_match's normalisation (regexes_to_ignore, case): what was compared.</summary>
    public string? ExtractedNormalised { get; init; }

    /// <summary>The reference after exact_match's normalisation: what was compared.</summary>
    public required string ReferenceNormalised { get; init; }

    public bool Correct { get; init; }

    /// <summary>The filter found nothing and gave its fallback.</summary>
    public bool Invalid { get; init; }

    /// <summary>The server never answered this item; it is not scored.</summary>
    public bool Failed { get; init; }

    /// <summary>Why the item failed.</summary>
    public string? Error { get; init; }

    /// <summary>The server's finish_reason ("stop", "length", …) when it gave one.</summary>
    public string? FinishReason { get; init; }

    /// <summary>Requests sent for this item (1 unless retried).</summary>
    public int Attempts { get; init; }

    public string? Model { get; init; }
    public string? Fse { get; init; }

    public override string ToString() =>
        Failed ? $"{Task}[{Index}] {Filter}: failed ({Error})" : $"{Task}[{Index}] {Filter}: {Extracted} {(Correct ? "correct" : "wrong")}";
}
