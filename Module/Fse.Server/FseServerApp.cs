using System.Security.Cryptography;
using System.Text;
using Fse.Runtime.Serving;
using Fse.Server.Api;
using Fse.Server.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Fse.Server;

/// <summary>
/// Builds the fse-server web application around a loaded model: Kestrel, the OpenAI endpoints, /metrics, API-key
/// checks on /v1/*, OpenAI-shaped errors, and a graceful drain on shutdown. Tests start it in-process on port 0.
/// </summary>
public static class FseServerApp
{
    /// <summary>
    /// The application for <paramref name="model"/>; it creates and owns the engine (stopped and disposed with the app)
    /// and disposes the model too when <paramref name="ownsModel"/>.
    /// </summary>
    public static WebApplication Build(ServerOptions options, ServedModel model, bool ownsModel, Action<ILoggingBuilder>? logging = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        if (logging is not null) logging(builder.Logging);
        builder.WebHost.UseKestrel(k =>
        {
            // The app enforces MaxRequestBytes itself (and drains what is over it); Kestrel cuts off bodies beyond draining.
            k.Limits.MaxRequestBodySize = options.MaxRequestBytes + JsonFields.DrainLimit;
            k.Limits.MaxConcurrentConnections = null;
            k.Limits.MaxConcurrentUpgradedConnections = null;
            k.AddServerHeader = false;
        });
        builder.WebHost.UseUrls($"http://{FormatHost(options.Host)}:{options.Port}");
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout + TimeSpan.FromSeconds(5));

        var engine = new InferenceEngine(model.Model, options.Engine, model.EosTokenIds);
        var state = new ServerState(options, model, engine, new ServerMetrics(engine, options.ServedName));
        builder.Services.AddSingleton(state);
        builder.Services.AddHostedService(sp => new EngineLifetime(state, ownsModel, sp.GetRequiredService<IHostApplicationLifetime>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("fse-server")));
        if (options.ParentPid is { } parent)
            builder.Services.AddHostedService(sp => new ParentProcessWatcher(parent, sp.GetRequiredService<IHostApplicationLifetime>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("fse-server")));

        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            try
            {
                if (options.ApiKey is { } key && context.Request.Path.StartsWithSegments("/v1") && !Authorized(context.Request, key))
                    throw new ApiException(StatusCodes.Status401Unauthorized, "Missing or wrong API key: send 'Authorization: Bearer <key>'.", code: "invalid_api_key");
                if (context.Request.ContentLength > options.MaxRequestBytes)
                {
                    if (context.Request.ContentLength <= options.MaxRequestBytes + JsonFields.DrainLimit)
                        await JsonFields.DrainAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
                    throw new ApiException(StatusCodes.Status413PayloadTooLarge,
                        $"The request body of {context.Request.ContentLength} bytes is larger than the limit of {options.MaxRequestBytes} bytes.", code: "request_too_large");
                }
                await next(context).ConfigureAwait(false);
            }
            catch (Exception e) when (!context.Response.HasStarted && Translate(e) is { } api)
            {
                if (api.Status >= 500 && api.Status != StatusCodes.Status503ServiceUnavailable)
                    app.Logger.LogError(e, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
                await ApiErrors.WriteAsync(context, api).ConfigureAwait(false);
            }
            catch (Exception e) when (context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested && e is not OperationCanceledException)
            {
                // A stream already under way: say what happened as its last event, then end it.
                app.Logger.LogError(e, "{Method} {Path} failed while streaming", context.Request.Method, context.Request.Path);
                try
                {
                    var body = ApiErrors.Body(Translate(e) ?? new ApiException(500, e.Message));
                    await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes("data: " + Encoding.UTF8.GetString(body) + "\n\ndata: [DONE]\n\n")).ConfigureAwait(false);
                }
                catch (Exception) { }
            }
            catch (Exception) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client went away: its sequences were cancelled on the way out; nothing to answer.
            }
        });

        app.MapGet("/health", ctx => InfoEndpoints.HealthAsync(ctx, state));
        app.MapGet("/version", InfoEndpoints.VersionAsync);
        app.MapGet("/v1/models", ctx => InfoEndpoints.ModelsAsync(ctx, state));
        app.MapPost("/v1/completions", ctx => CompletionsEndpoint.HandleAsync(ctx, state));
        app.MapPost("/v1/chat/completions", ctx => ChatCompletionsEndpoint.HandleAsync(ctx, state));
        app.MapPost("/tokenize", ctx => TokenizeEndpoints.TokenizeAsync(ctx, state));
        app.MapPost("/detokenize", ctx => TokenizeEndpoints.DetokenizeAsync(ctx, state));
        app.MapGet("/metrics", async ctx =>
        {
            ctx.Response.ContentType = PrometheusText.ContentType;
            await ctx.Response.WriteAsync(state.Metrics.Render(), ctx.RequestAborted).ConfigureAwait(false);
        });
        app.MapFallback(ctx =>
        {
            var path = ctx.Request.Path.Value?.TrimEnd('/') ?? "";
            if (Routes.TryGetValue(path, out var method))
            {
                ctx.Response.Headers.Allow = method;
                throw new ApiException(StatusCodes.Status405MethodNotAllowed, $"{path} takes {method}, not {ctx.Request.Method}.");
            }
            throw new ApiException(StatusCodes.Status404NotFound, $"No route {ctx.Request.Method} {ctx.Request.Path}.");
        });
        return app;
    }

    private static readonly Dictionary<string, string> Routes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["/health"] = "GET", ["/version"] = "GET", ["/metrics"] = "GET", ["/v1/models"] = "GET",
        ["/v1/completions"] = "POST", ["/v1/chat/completions"] = "POST", ["/tokenize"] = "POST", ["/detokenize"] = "POST",
    };

    /// <summary>The address the started app listens on, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public static string Address(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');

    public static ServerState State(WebApplication app) => app.Services.GetRequiredService<ServerState>();

    private static string FormatHost(string host) => host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;

    private static bool Authorized(HttpRequest request, string key)
    {
        var header = request.Headers.Authorization.ToString();
        const string Bearer = "Bearer ";
        if (!header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase)) return false;
        var given = Encoding.UTF8.GetBytes(header[Bearer.Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(key));
    }

    private static ApiException? Translate(Exception e) => e switch
    {
        ApiException a => a,
        EngineRequestException r => ApiException.BadRequest(r.Message, r.Param),
        EngineBusyException b => new ApiException(StatusCodes.Status429TooManyRequests, b.Message),
        EngineUnavailableException u => new ApiException(StatusCodes.Status503ServiceUnavailable, u.Message),
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } t => new ApiException(t.StatusCode, $"The request body is too large: {t.Message}", code: "request_too_large"),
        BadHttpRequestException t => new ApiException(t.StatusCode, t.Message),
        OperationCanceledException => null,
        _ => new ApiException(StatusCodes.Status500InternalServerError, $"Internal error: {e.GetType().Name}: {e.Message}"),
    };
}
