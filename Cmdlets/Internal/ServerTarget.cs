using System.Management.Automation;
using Fse.Client;

namespace Fse.Cmdlets.Internal;

/// <summary>
/// What a client cmdlet's <c>-Server</c> names: the endpoint, plus what the handle already knows about the
/// server (FSE mode, model, device) when an FseServer object was given rather than a URL.
/// </summary>
public sealed record ServerTarget(OpenAiEndpoint Endpoint, string? Fse = null, string? Model = null, string? Device = null)
{
    public override string ToString() => Endpoint.ToString();
}

/// <summary>
/// Lets <c>-Server</c> take a URL string, a <see cref="Uri"/>, or any object with a <c>Url</c> property (an FseServer
/// handle from Start-FseServer or Get-FseServer, or a deserialised one) and optional <c>ApiKey</c>, <c>Fse</c>,
/// <c>Model</c>, <c>Device</c> properties.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ServerTargetTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object? value = inputData is PSObject ps ? ps.BaseObject : inputData;
        switch (value)
        {
            case ServerTarget t: return t;
            case OpenAiEndpoint e: return new ServerTarget(e);
            case Uri u: return new ServerTarget(new OpenAiEndpoint(u));
            case string s: return Parse(s, null);
        }
        var obj = PSObject.AsPSObject(inputData);
        if (obj.Properties["Url"]?.Value is { } url)
        {
            string? Prop(string name) => obj.Properties[name]?.Value?.ToString() is { Length: > 0 } v ? v : null;
            var endpoint = Parse(url.ToString()!, Prop("ApiKey")).Endpoint;
            return new ServerTarget(endpoint, Prop("Fse"), Prop("Model"), Prop("Device"));
        }
        throw new ArgumentTransformationMetadataException(
            $"Cannot use a {value?.GetType().Name ?? "null"} as a server: give a URL such as http://127.0.0.1:8000 or an FseServer object from Start-FseServer.");
    }

    private static ServerTarget Parse(string url, string? apiKey)
    {
        try
        {
            return new ServerTarget(OpenAiEndpoint.Parse(url, apiKey));
        }
        catch (ArgumentException e)
        {
            throw new ArgumentTransformationMetadataException(e.Message, e);
        }
    }
}
