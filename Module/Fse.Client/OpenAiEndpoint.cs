namespace Fse.Client;

/// <summary>An OpenAI-compatible server: its root URL (without <c>/v1</c>) and an optional API key.</summary>
public sealed record OpenAiEndpoint
{
    public OpenAiEndpoint(Uri root, string? apiKey = null)
    {
        if (!root.IsAbsoluteUri || (root.Scheme != Uri.UriSchemeHttp && root.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"'{root}' is not an http(s) URL.", nameof(root));
        var text = root.GetLeftPart(UriPartial.Path).TrimEnd('/');
        if (text.EndsWith("/v1", StringComparison.Ordinal)) text = text[..^3];
        Root = new Uri(text + "/");
        ApiKey = string.IsNullOrEmpty(apiKey) ? null : apiKey;
    }

    /// <summary>The server root with a trailing slash, e.g. <c>http://127.0.0.1:8000/</c>.</summary>
    public Uri Root { get; }

    public string? ApiKey { get; }

    public static OpenAiEndpoint Parse(string url, string? apiKey = null) =>
        Uri.TryCreate(url, UriKind.Absolute, out var u)
            ? new OpenAiEndpoint(u, apiKey)
            : throw new ArgumentException($"'{url}' is not an absolute http(s) URL.", nameof(url));

    public Uri Resolve(string relative) => new(Root, relative.TrimStart('/'));

    public override string ToString() => Root.ToString().TrimEnd('/');
}
