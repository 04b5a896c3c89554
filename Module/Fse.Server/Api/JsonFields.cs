using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Fse.Server.Api;

/// <summary>Typed reads of a request's JSON object; a missing field is null, a field of the wrong type a 400 naming it.</summary>
public readonly struct JsonFields
{
    private readonly JsonElement _obj;

    public JsonFields(JsonElement obj)
    {
        if (obj.ValueKind != JsonValueKind.Object)
            throw ApiException.BadRequest($"The request body must be a JSON object, not {Describe(obj)}.");
        _obj = obj;
    }

    /// <summary>
    /// Reads and parses the body as JSON. A body above <paramref name="limit"/> bytes is a 413; the rest of it is read
    /// and dropped first (up to <see cref="DrainLimit"/>), so the client finishes sending and gets the answer instead of a
    /// connection reset.
    /// </summary>
    public static async Task<JsonDocument> ReadAsync(HttpRequest request, long limit, CancellationToken ct)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            int n;
            while ((n = await request.Body.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + n > limit)
                {
                    await DrainAsync(request, ct).ConfigureAwait(false);
                    throw TooLarge(limit);
                }
                buffer.Write(chunk, 0, n);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(limit);
        }
        if (buffer.Length == 0) throw ApiException.BadRequest("The request body is empty: a JSON object is expected.");
        try
        {
            return JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"The request body is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine}): {e.Message}", null);
        }
    }

    /// <summary>The most bytes of an oversized body read and dropped before the 413 is sent.</summary>
    public const long DrainLimit = 64L << 20;

    /// <summary>Reads and drops what is left of the body, up to <see cref="DrainLimit"/> bytes or 10 s.</summary>
    public static async Task DrainAsync(HttpRequest request, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        var chunk = new byte[64 * 1024];
        long dropped = 0;
        try
        {
            int n;
            while (dropped < DrainLimit && (n = await request.Body.ReadAsync(chunk, timeout.Token).ConfigureAwait(false)) > 0) dropped += n;
        }
        catch (Exception e) when (e is BadHttpRequestException or OperationCanceledException or IOException) { }
    }

    public static ApiException TooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than the limit of {limit} bytes.", code: "request_too_large");

    public bool Has(string name) => _obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    public JsonElement? Raw(string name) => _obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public string? String(string name)
    {
        if (Raw(name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Wrong(name, "a string", v);
    }

    public bool? Bool(string name)
    {
        if (Raw(name) is not { } v) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Wrong(name, "a boolean", v),
        };
    }

    public int? Int(string name, int min = int.MinValue, int max = int.MaxValue)
    {
        if (Raw(name) is not { } v) return null;
        int value;
        if (v.ValueKind != JsonValueKind.Number) throw Wrong(name, "an integer", v);
        if (!v.TryGetInt32(out value))
        {
            // 3.0 is an integer in JSON's eyes; 3.5 and 1e12 are not ours.
            if (v.TryGetDouble(out var d) && d == Math.Floor(d) && d >= int.MinValue && d <= int.MaxValue) value = (int)d;
            else throw ApiException.BadRequest($"'{name}' must be an integer between {min} and {max}, got {v.GetRawText()}.", name);
        }
        if (value < min || value > max)
            throw ApiException.BadRequest($"'{name}' must be {(max == int.MaxValue ? $"at least {min}" : $"between {min} and {max}")}, got {value}.", name);
        return value;
    }

    public long? Long(string name)
    {
        if (Raw(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number) throw Wrong(name, "an integer", v);
        if (v.TryGetInt64(out var l)) return l;
        if (v.TryGetDouble(out var d) && d == Math.Floor(d) && Math.Abs(d) < 9.2e18) return (long)d;
        throw ApiException.BadRequest($"'{name}' must be an integer, got {v.GetRawText()}.", name);
    }

    public double? Number(string name)
    {
        if (Raw(name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Wrong(name, "a number", v);
    }

    /// <summary>A string or a list of strings (OpenAI's <c>stop</c>).</summary>
    public IReadOnlyList<string> Strings(string name)
    {
        if (Raw(name) is not { } v) return [];
        if (v.ValueKind == JsonValueKind.String) return [v.GetString()!];
        if (v.ValueKind != JsonValueKind.Array) throw Wrong(name, "a string or a list of strings", v);
        var list = new List<string>();
        foreach (var x in v.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.String) throw Wrong(name, "a string or a list of strings", x);
            list.Add(x.GetString()!);
        }
        return list;
    }

    /// <summary>A list of non-negative integers (token ids).</summary>
    public IReadOnlyList<int> Ints(string name)
    {
        if (Raw(name) is not { } v) return [];
        if (v.ValueKind != JsonValueKind.Array) throw Wrong(name, "a list of integers", v);
        return TokenIds(v, name);
    }

    public static int[] TokenIds(JsonElement array, string name)
    {
        var ids = new int[array.GetArrayLength()];
        int i = 0;
        foreach (var x in array.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.Number || !x.TryGetInt32(out var id))
                throw ApiException.BadRequest($"'{name}' must hold integer token ids, got {Describe(x)} at index {i}.", name);
            if (id < 0) throw ApiException.BadRequest($"'{name}' holds a negative token id ({id}) at index {i}.", name);
            ids[i++] = id;
        }
        return ids;
    }

    public JsonFields? Object(string name)
    {
        if (Raw(name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.Object ? new JsonFields(v) : throw Wrong(name, "an object", v);
    }

    private static ApiException Wrong(string name, string expected, JsonElement got) =>
        ApiException.BadRequest($"'{name}' must be {expected}, got {Describe(got)}.", name);

    public static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        _ => e.ValueKind.ToString(),
    };
}
