using System.Text;
using System.Text.RegularExpressions;
using Fse.Eval.Data;

namespace Fse.Eval.Prompting;

/// <summary>
/// The subset of lm-eval's Jinja templates that generation tasks use: literal text with <c>{{ field }}</c>
/// substitutions, rendered verbatim (no autoescape, trailing newlines kept). As in lm-eval, a template that is exactly a
/// field name renders that field. Anything else Jinja can do (<c>{% %}</c>, filters, expressions) is refused when the
/// definition loads, so a template never silently renders differently from lm-eval.
/// </summary>
public sealed partial class PromptTemplate
{
    private readonly (string? Literal, string? Field)[] _parts;

    private PromptTemplate(string source, (string?, string?)[] parts, IReadOnlyList<string> fields)
    {
        Source = source;
        _parts = parts;
        Fields = fields;
    }

    public string Source { get; }

    /// <summary>The document fields the template reads.</summary>
    public IReadOnlyList<string> Fields { get; }

    /// <summary>Parses a template; <paramref name="what"/> names it in errors (e.g. "doc_to_text").</summary>
    public static PromptTemplate Parse(string source, string what)
    {
        if (source.Contains("{%", StringComparison.Ordinal) || source.Contains("{#", StringComparison.Ordinal))
            throw new FormatException($"{what}: only {{{{ field }}}} substitutions are supported, not Jinja statements or comments: \"{source}\"");
        var parts = new List<(string?, string?)>();
        var fields = new List<string>();
        int at = 0;
        while (at < source.Length)
        {
            int open = source.IndexOf("{{", at, StringComparison.Ordinal);
            if (open < 0) { parts.Add((source[at..], null)); break; }
            if (open > at) parts.Add((source[at..open], null));
            int close = source.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0) throw new FormatException($"{what}: '{{{{' at offset {open} is never closed: \"{source}\"");
            var expr = source[(open + 2)..close].Trim();
            if (!Identifier().IsMatch(expr))
                throw new FormatException($"{what}: '{{{{{expr}}}}}' is not a plain field name; only {{{{ field }}}} substitutions are supported.");
            parts.Add((null, expr));
            if (!fields.Contains(expr)) fields.Add(expr);
            at = close + 2;
        }
        return new PromptTemplate(source, [.. parts], fields);
    }

    /// <summary>Renders the template for one document (every field it reads must be present; the loader checks that).</summary>
    public string Render(EvalDocument doc)
    {
        if (Fields.Count == 0 && doc.Fields.TryGetValue(Source, out var whole)) return whole;
        var sb = new StringBuilder();
        foreach (var (literal, field) in _parts)
            sb.Append(literal ?? doc.Fields[field!]);
        return sb.ToString();
    }

    public override string ToString() => Source;

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex Identifier();
}
