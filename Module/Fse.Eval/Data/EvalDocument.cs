namespace Fse.Eval.Data;

/// <summary>
/// One line of a JSONL data file: its 0-based position and its top-level fields as text (strings as they are,
/// other JSON values as their JSON text, e.g. <c>42</c> or <c>true</c>).
/// </summary>
public sealed class EvalDocument(int index, IReadOnlyDictionary<string, string> fields) : IEquatable<EvalDocument>
{
    public int Index { get; } = index;

    public IReadOnlyDictionary<string, string> Fields { get; } = fields;

    /// <summary>Field-wise equality, as Python compares two dicts (lm-eval uses it to drop the evaluated doc from its few-shot draw).</summary>
    public bool Equals(EvalDocument? other) =>
        other is not null && other.Fields.Count == Fields.Count &&
        Fields.All(kv => other.Fields.TryGetValue(kv.Key, out var v) && string.Equals(v, kv.Value, StringComparison.Ordinal));

    public override bool Equals(object? obj) => Equals(obj as EvalDocument);

    public override int GetHashCode()
    {
        int h = Fields.Count;
        foreach (var kv in Fields) h ^= HashCode.Combine(StringComparer.Ordinal.GetHashCode(kv.Key), StringComparer.Ordinal.GetHashCode(kv.Value));
        return h;
    }
}
