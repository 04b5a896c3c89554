using System.Text.Json;

namespace Fse.Runtime.Checkpoints;

/// <summary>One tensor entry of a safetensors header; offsets are relative to the start of the data section.</summary>
internal sealed record SafetensorsEntry(string Name, SafetensorsDType DType, TensorShape Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
}

/// <summary>
/// Parses and validates a safetensors header (the JSON after the 8-byte length): every entry has a supported dtype, a
/// shape whose size matches its byte range, and a range inside the data section that overlaps no other.
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>safetensors' own limit on the header size; anything larger is not a safetensors file.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public const string MetadataKey = "__metadata__";

    public static (List<SafetensorsEntry> Entries, Dictionary<string, string> Metadata) Parse(
        ReadOnlySpan<byte> json, long dataLength, string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException e)
        {
            throw Malformed(path, $"its header is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine}): {e.Message}", null, e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw Malformed(path, "its header must be a JSON object");
            var entries = new List<SafetensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw Malformed(path, $"its header names '{property.Name}' twice", property.Name);
                if (property.Name == MetadataKey)
                    ReadMetadata(property.Value, metadata, path);
                else
                    entries.Add(ReadEntry(property.Name, property.Value, dataLength, path));
            }
            CheckOverlaps(entries, path);
            return (entries, metadata);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Malformed(path, $"its '{MetadataKey}' must be an object of strings", MetadataKey);
        foreach (var m in value.EnumerateObject())
        {
            if (m.Value.ValueKind != JsonValueKind.String)
                throw Malformed(path, $"its '{MetadataKey}' entry '{m.Name}' must be a string", MetadataKey);
            metadata[m.Name] = m.Value.GetString()!;
        }
    }

    private static SafetensorsEntry ReadEntry(string name, JsonElement value, long dataLength, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Malformed(path, $"tensor '{name}' must be described by an object with dtype, shape and data_offsets", name);
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Malformed(path, $"tensor '{name}' has no string 'dtype'", name);
        var dtypeName = dtypeElement.GetString()!;
        if (!SafetensorsDTypes.TryParseHeaderName(dtypeName, out var dtype))
            throw new CheckpointException(CheckpointErrorKind.UnsupportedDType, path,
                $"'{path}': tensor '{name}' has dtype '{dtypeName}'; supported: F32, F16, BF16.", name);

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Malformed(path, $"tensor '{name}' has no 'shape' list", name);
        var dims = new List<long>();
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var dim) || dim < 0)
                throw Malformed(path, $"tensor '{name}' has a shape entry {d.GetRawText()} that is not a non-negative integer", name);
            dims.Add(dim);
        }
        TensorShape shape;
        try
        {
            shape = new TensorShape([.. dims]);
        }
        catch (OverflowException)
        {
            throw Malformed(path, $"tensor '{name}' has shape [{string.Join(", ", dims)}], whose element count overflows", name);
        }

        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw Malformed(path, $"tensor '{name}' has no 'data_offsets' pair [begin, end]", name);
        long begin = Offset(offsets[0], name, path), end = Offset(offsets[1], name, path);
        if (end < begin)
            throw Malformed(path, $"tensor '{name}' has reversed data_offsets [{begin}, {end}]", name);
        long expected;
        try { expected = checked(shape.ElementCount * dtype.BytesPerElement()); }
        catch (OverflowException) { throw Malformed(path, $"tensor '{name}' has shape {shape}, whose byte size overflows", name); }
        if (end - begin != expected)
            throw Malformed(path,
                $"tensor '{name}' has shape {shape} and dtype {dtypeName} ({expected} bytes) but data_offsets [{begin}, {end}] span {end - begin} bytes", name);
        if (end > dataLength)
            throw new CheckpointException(CheckpointErrorKind.Truncated, path,
                $"'{path}' is truncated: tensor '{name}' needs data bytes [{begin}, {end}) but the data section holds only {dataLength} bytes.", name);
        return new SafetensorsEntry(name, dtype, shape, begin, end);
    }

    private static long Offset(JsonElement e, string name, string path)
    {
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out var v) || v < 0)
            throw Malformed(path, $"tensor '{name}' has a data offset {e.GetRawText()} that is not a non-negative integer", name);
        return v;
    }

    private static void CheckOverlaps(List<SafetensorsEntry> entries, string path)
    {
        var sorted = entries.Where(e => e.ByteLength > 0).OrderBy(e => e.Begin).ToList();
        for (int i = 1; i < sorted.Count; i++)
        {
            var a = sorted[i - 1];
            var b = sorted[i];
            if (b.Begin < a.End)
                throw Malformed(path,
                    $"tensors '{a.Name}' [{a.Begin}, {a.End}) and '{b.Name}' [{b.Begin}, {b.End}) overlap in the data section", b.Name);
        }
    }

    public static CheckpointException Malformed(string path, string what, string? key = null, Exception? inner = null) =>
        new(CheckpointErrorKind.MalformedHeader, path, $"'{path}' is not a valid safetensors file: {what}.", key, inner);
}
