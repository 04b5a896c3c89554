using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Fse.Server.Api;

/// <summary>Small helpers for writing response JSON with <see cref="Utf8JsonWriter"/>.</summary>
internal static class JsonOut
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, Options)) body(w);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A log probability as vLLM writes it: never below -9999 (so -inf and NaN stay valid JSON).</summary>
    public static void Logprob(Utf8JsonWriter w, double value) => w.WriteNumberValue(double.IsNaN(value) ? -9999.0 : Math.Max(value, -9999.0));

    public static void Logprob(Utf8JsonWriter w, string name, double value)
    {
        w.WritePropertyName(name);
        Logprob(w, value);
    }

    public static void Ints(Utf8JsonWriter w, string name, IEnumerable<int> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    public static void Usage(Utf8JsonWriter w, int prompt, int completion)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", prompt);
        w.WriteNumber("total_tokens", prompt + completion);
        w.WriteNumber("completion_tokens", completion);
        w.WriteEndObject();
    }
}
