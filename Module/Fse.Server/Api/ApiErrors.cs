using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Fse.Server.Api;

/// <summary>Writes errors in OpenAI's JSON shape.</summary>
public static class ApiErrors
{
    public static string TypeFor(int status) => status switch
    {
        400 or 405 or 413 or 422 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        503 => "service_unavailable_error",
        _ => "server_error",
    };

    public static byte[] Body(string message, string type, string? param, string? code)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteString("message", message);
            w.WriteString("type", type);
            if (param is null) w.WriteNull("param"); else w.WriteString("param", param);
            if (code is null) w.WriteNull("code"); else w.WriteString("code", code);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    public static byte[] Body(ApiException e) => Body(e.Message, e.Type, e.Param, e.Code);

    /// <summary>Writes <paramref name="e"/> as the whole response (the response must not have started).</summary>
    public static async Task WriteAsync(HttpContext context, ApiException e)
    {
        context.Response.StatusCode = e.Status;
        context.Response.ContentType = "application/json";
        if (e.Status == StatusCodes.Status401Unauthorized) context.Response.Headers.WWWAuthenticate = "Bearer";
        var body = Body(e);
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }
}
