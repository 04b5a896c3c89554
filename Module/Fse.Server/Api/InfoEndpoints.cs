using Microsoft.AspNetCore.Http;

namespace Fse.Server.Api;

/// <summary><c>GET /health</c>, <c>GET /v1/models</c> and <c>GET /version</c>.</summary>
internal static class InfoEndpoints
{
    /// <summary>200 with an empty body while the engine runs (also while draining); 503 once it died.</summary>
    public static async Task HealthAsync(HttpContext context, ServerState state)
    {
        if (!state.Engine.IsHealthy)
            throw new ApiException(StatusCodes.Status503ServiceUnavailable, "The inference engine has stopped after an internal error.");
        context.Response.StatusCode = StatusCodes.Status200OK;
        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <summary>The one served model, with fse-server's extra fields: fse, device, max_model_len, vocab_size.</summary>
    public static Task ModelsAsync(HttpContext context, ServerState state) => TokenizeEndpoints.Json(context, JsonOut.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("object", "list");
        w.WriteStartArray("data");
        w.WriteStartObject();
        w.WriteString("id", state.ServedName);
        w.WriteString("object", "model");
        w.WriteNumber("created", state.Created);
        w.WriteString("owned_by", "fse");
        w.WriteString("root", state.Model.Spec);
        w.WriteNull("parent");
        w.WriteNumber("max_model_len", state.Engine.MaxModelLen);
        w.WriteString("fse", state.Fse);
        w.WriteString("device", state.Device);
        w.WriteNumber("vocab_size", state.Model.RegularVocabSize);
        w.WriteString("model_type", state.Model.Config.ModelType);
        w.WriteStartArray("permission");
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    }));

    public static Task VersionAsync(HttpContext context) => TokenizeEndpoints.Json(context, JsonOut.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("version", typeof(InfoEndpoints).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
        w.WriteEndObject();
    }));
}
