using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fse.Client;

/// <summary>
/// Calls an OpenAI-compatible server. Thread-safe; one instance can drive hundreds of concurrent streams.
/// Errors surface as <see cref="OpenAiException"/> carrying the server's own message.
/// </summary>
public sealed class OpenAiClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    public OpenAiClient(OpenAiEndpoint endpoint, HttpClient? http = null, TimeSpan? timeout = null)
    {
        Endpoint = endpoint;
        _ownsHttp = http is null;
        _http = http ?? new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = int.MaxValue,
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            AutomaticDecompression = DecompressionMethods.None,
        })
        { Timeout = timeout ?? Timeout.InfiniteTimeSpan };
    }

    public OpenAiEndpoint Endpoint { get; }

    /// <summary><c>GET /health</c>: true on 2xx, false on any other status or no answer.</summary>
    public async Task<bool> IsHealthyAsync(CancellationToken ct = default)
    {
        try
        {
            using var r = await _http.SendAsync(Request(HttpMethod.Get, "health"), ct).ConfigureAwait(false);
            return r.IsSuccessStatusCode;
        }
        catch (HttpRequestException) { return false; }
    }

    public async Task<IReadOnlyList<ModelCard>> GetModelsAsync(CancellationToken ct = default)
    {
        using var doc = await SendJsonAsync(HttpMethod.Get, "v1/models", null, ct).ConfigureAwait(false);
        var list = new List<ModelCard>();
        if (doc.RootElement.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array)
            foreach (var m in data.EnumerateArray()) list.Add(ModelCard.Parse(m));
        return list;
    }

    /// <summary>A non-streamed <c>POST /v1/completions</c>.</summary>
    public async Task<CompletionResponse> CompleteAsync(CompletionRequest request, CancellationToken ct = default)
    {
        using var doc = await SendJsonAsync(HttpMethod.Post, "v1/completions", request.ToJson(stream: false), ct).ConfigureAwait(false);
        return CompletionResponse.Parse(doc.RootElement);
    }

    /// <summary>
    /// A streamed <c>POST /v1/completions</c> (with <c>stream_options.include_usage</c>): yields every
    /// <c>data:</c> event with its arrival time, up to <c>[DONE]</c>. A stream that ends without <c>[DONE]</c> throws.
    /// </summary>
    public async IAsyncEnumerable<StreamChunk> StreamCompletionAsync(CompletionRequest request, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var message = Request(HttpMethod.Post, "v1/completions", request.ToJson(stream: true));
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        using var reader = new StreamReader(body, Encoding.UTF8);
        bool done = false;
        while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
        {
            long arrived = Stopwatch.GetTimestamp();
            if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;   // blank separators, comments, event: lines
            var payload = line.AsSpan(5).Trim();
            if (payload.SequenceEqual("[DONE]")) { done = true; break; }
            JsonDocument doc;
            try { doc = JsonDocument.Parse(payload.ToString()); }
            catch (JsonException e) { throw new OpenAiException($"{Endpoint}: malformed stream event: {Truncate(payload.ToString())}", inner: e); }
            using (doc)
            {
                if (doc.RootElement.TryGetProperty("error", out var err))
                    throw ErrorFrom(err, response.StatusCode, "stream");
                yield return new StreamChunk(arrived, CompletionResponse.Parse(doc.RootElement));
            }
        }
        if (!done) throw new OpenAiException($"{Endpoint}: the completion stream ended without [DONE].");
    }

    /// <summary><c>POST /tokenize</c>; null when the server does not offer it (404/405).</summary>
    public async Task<int[]?> TokenizeAsync(string model, string text, CancellationToken ct = default)
    {
        var body = new JsonObject { ["model"] = model, ["prompt"] = text, ["add_special_tokens"] = false };
        using var doc = await TrySendJsonAsync(HttpMethod.Post, "tokenize", body, ct).ConfigureAwait(false);
        if (doc is null) return null;
        return doc.RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
    }

    /// <summary><c>POST /detokenize</c>; null when the server does not offer it (404/405).</summary>
    public async Task<string?> DetokenizeAsync(string model, IReadOnlyList<int> tokens, CancellationToken ct = default)
    {
        var body = new JsonObject { ["model"] = model, ["tokens"] = new JsonArray([.. tokens.Select(t => (JsonNode)JsonValue.Create(t))]) };
        using var doc = await TrySendJsonAsync(HttpMethod.Post, "detokenize", body, ct).ConfigureAwait(false);
        return doc?.RootElement.GetProperty("prompt").GetString();
    }

    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }

    private HttpRequestMessage Request(HttpMethod method, string path, JsonNode? body = null)
    {
        var m = new HttpRequestMessage(method, Endpoint.Resolve(path));
        if (Endpoint.ApiKey is not null) m.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Endpoint.ApiKey);
        if (body is not null) m.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        return m;
    }

    private async Task<JsonDocument?> TrySendJsonAsync(HttpMethod method, string path, JsonNode? body, CancellationToken ct)
    {
        try { return await SendJsonAsync(method, path, body, ct).ConfigureAwait(false); }
        catch (OpenAiException e) when (e.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed) { return null; }
    }

    private async Task<JsonDocument> SendJsonAsync(HttpMethod method, string path, JsonNode? body, CancellationToken ct)
    {
        using var response = await SendAsync(Request(method, path, body), HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        try { return JsonDocument.Parse(text); }
        catch (JsonException e) { throw new OpenAiException($"{Endpoint}/{path}: the response is not JSON: {Truncate(text)}", response.StatusCode, inner: e); }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage message, HttpCompletionOption option, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, option, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new OpenAiException($"{message.RequestUri}: no response ({e.Message})", inner: e);
        }
        finally
        {
            message.Dispose();
        }
        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            try
            {
                using var doc = JsonDocument.Parse(text);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var err))
                    throw ErrorFrom(err, response.StatusCode, response.RequestMessage?.RequestUri?.AbsolutePath);
            }
            catch (JsonException) { }
            throw new OpenAiException($"{response.RequestMessage?.RequestUri}: HTTP {(int)response.StatusCode} {Truncate(text)}", response.StatusCode);
        }
    }

    private OpenAiException ErrorFrom(JsonElement err, HttpStatusCode status, string? where)
    {
        string? S(string k) => err.ValueKind == JsonValueKind.Object && err.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var message = err.ValueKind == JsonValueKind.String ? err.GetString() : S("message") ?? err.GetRawText();
        string? code = err.ValueKind == JsonValueKind.Object && err.TryGetProperty("code", out var c) ? (c.ValueKind == JsonValueKind.String ? c.GetString() : c.GetRawText()) : null;
        return new OpenAiException($"{Endpoint}{where}: HTTP {(int)status}: {message}", status, S("type"), code);
    }

    private static string Truncate(string s) => s.Length <= 300 ? s : s[..300] + "…";
}
