using System.Text;
using Microsoft.AspNetCore.Http;

namespace Fse.Server.Api;

/// <summary>Server-sent events as OpenAI streams them: <c>data: {json}\n\n</c> per chunk, then <c>data: [DONE]\n\n</c>.</summary>
internal sealed class SseWriter(HttpResponse response)
{
    private static readonly byte[] Prefix = "data: "u8.ToArray();
    private static readonly byte[] Separator = "\n\n"u8.ToArray();
    private static readonly byte[] Done = Encoding.ASCII.GetBytes("data: [DONE]\n\n");

    public async Task StartAsync(CancellationToken ct)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.StartAsync(ct).ConfigureAwait(false);
    }

    public async Task WriteAsync(byte[] json, CancellationToken ct)
    {
        var body = response.Body;
        await body.WriteAsync(Prefix, ct).ConfigureAwait(false);
        await body.WriteAsync(json, ct).ConfigureAwait(false);
        await body.WriteAsync(Separator, ct).ConfigureAwait(false);
        await body.FlushAsync(ct).ConfigureAwait(false);
    }

    public async Task DoneAsync(CancellationToken ct)
    {
        await response.Body.WriteAsync(Done, ct).ConfigureAwait(false);
        await response.Body.FlushAsync(ct).ConfigureAwait(false);
    }
}
