using System.Text.Json;

namespace Fse.Runtime.Checkpoints;

/// <summary>Typed reads from a JSON object that fail with a <see cref="CheckpointException"/> naming the file and key.</summary>
internal readonly struct JsonReader(JsonElement obj, string path, string prefix = "")
{
    public JsonElement Element => obj;

    public bool Has(string key) => obj.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;

    public JsonReader? Child(string key) =>
        obj.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Object ? new JsonReader(v, path, prefix + key + ".") : null;

    public int Int(string key) => TryInt(key) ?? throw Missing(key);

    public int Int(string key, int fallback) => TryInt(key) ?? fallback;

    public int? TryInt(string key)
    {
        if (!obj.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i)) return i;
        throw Invalid(key, v, "an integer");
    }

    public double Double(string key, double fallback) => TryDouble(key) ?? fallback;

    public double? TryDouble(string key)
    {
        if (!obj.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number) return v.GetDouble();
        throw Invalid(key, v, "a number");
    }

    public bool Bool(string key, bool fallback)
    {
        if (!obj.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid(key, v, "true or false"),
        };
    }

    public string? String(string key)
    {
        if (!obj.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        throw Invalid(key, v, "a string");
    }

    public int[]? IntArray(string key)
    {
        if (!obj.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var single)) return [single];
        if (v.ValueKind != JsonValueKind.Array) throw Invalid(key, v, "a list of integers");
        var list = new List<int>();
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out var i)) throw Invalid(key, v, "a list of integers");
            list.Add(i);
        }
        return [.. list];
    }

    public string[]? StringArray(string key)
    {
        if (!obj.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Array) throw Invalid(key, v, "a list of strings");
        var list = new List<string>();
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.String) throw Invalid(key, v, "a list of strings");
            list.Add(e.GetString()!);
        }
        return [.. list];
    }

    public CheckpointException Missing(string key) =>
        new(CheckpointErrorKind.MissingKey, path, $"'{path}' has no key '{prefix}{key}'.", prefix + key);

    public CheckpointException Invalid(string key, string why) =>
        new(CheckpointErrorKind.InvalidValue, path, $"'{path}': key '{prefix}{key}' {why}.", prefix + key);

    private CheckpointException Invalid(string key, JsonElement v, string expected) =>
        new(CheckpointErrorKind.InvalidValue, path,
            $"'{path}': key '{prefix}{key}' must be {expected}, not {Describe(v)}.", prefix + key);

    private static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{v.GetString()}\"",
        JsonValueKind.Number => $"the number {v.GetRawText()}",
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        JsonValueKind.True or JsonValueKind.False => v.GetRawText(),
        _ => v.ValueKind.ToString().ToLowerInvariant(),
    };
}
