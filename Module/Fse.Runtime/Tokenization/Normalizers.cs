using Fse.Runtime.Tokenization.Unicode;

namespace Fse.Runtime.Tokenization;

/// <summary>A tokenizer.json normalizer: rewrites text before pre-tokenization (HF's "normalizer").</summary>
internal abstract class TextNormalizer
{
    public abstract string Normalize(string text);
}

/// <summary>NFC, NFD, NFKC or NFKD with HF's Unicode tables.</summary>
internal sealed class UnicodeFormNormalizer(NormalizationKind kind) : TextNormalizer
{
    public NormalizationKind Kind { get; } = kind;

    public override string Normalize(string text) => UnicodeNormalizer.Normalize(text, Kind);
}

/// <summary>HF's "Sequence" normalizer: each one in order.</summary>
internal sealed class SequenceNormalizer(IReadOnlyList<TextNormalizer> normalizers) : TextNormalizer
{
    public override string Normalize(string text)
    {
        foreach (var n in normalizers) text = n.Normalize(text);
        return text;
    }
}
