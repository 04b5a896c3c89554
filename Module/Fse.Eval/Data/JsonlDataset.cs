using System.Text;
using System.Text.Json;
using Fse.Eval.Tasks;

namespace Fse.Eval.Data;

/// <summary>Reads lm-eval style JSONL data (one JSON object per line; blank lines skipped) with errors that name the file and line.</summary>
public static class JsonlDataset
{
    public static IReadOnlyList<EvalDocument> Load(string path, IReadOnlyCollection<string> requiredFields)
    {
        if (!File.Exists(path))
            throw new EvalTaskException(EvalTaskErrorKind.FileNotFound, $"The data file '{path}' does not exist.", path);
        var docs = new List<EvalDocument>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            docs.Add(Parse(line, docs.Count, path, lineNumber, requiredFields));
        }
        return docs;
    }

    internal static EvalDocument Parse(string line, int index, string path, int lineNumber, IReadOnlyCollection<string> requiredFields)
    {
        JsonDocument json;
        try { json = JsonDocument.Parse(line); }
        catch (JsonException e)
        {
            throw new EvalTaskException(EvalTaskErrorKind.MalformedData, $"{path}:{lineNumber}: not valid JSON ({e.Message})", path, lineNumber, e);
        }
        using (json)
        {
            if (json.RootElement.ValueKind != JsonValueKind.Object)
                throw new EvalTaskException(EvalTaskErrorKind.MalformedData, $"{path}:{lineNumber}: expected a JSON object, found {json.RootElement.ValueKind}.", path, lineNumber);
            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in json.RootElement.EnumerateObject())
                fields[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            foreach (var f in requiredFields)
            {
                if (!fields.ContainsKey(f))
                    throw new EvalTaskException(EvalTaskErrorKind.MalformedData, $"{path}:{lineNumber}: the field '{f}' is missing (the task needs {string.Join(", ", requiredFields.Select(x => $"'{x}'"))}).", path, lineNumber);
                if (json.RootElement.GetProperty(f).ValueKind == JsonValueKind.Null)
                    throw new EvalTaskException(EvalTaskErrorKind.MalformedData, $"{path}:{lineNumber}: the field '{f}' is null.", path, lineNumber);
            }
            return new EvalDocument(index, fields);
        }
    }
}
