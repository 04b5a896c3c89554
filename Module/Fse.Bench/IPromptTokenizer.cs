using Fse.Client;

namespace Fse.Bench;

/// <summary>The server's tokenizer, reached through its <c>/tokenize</c> and <c>/detokenize</c> endpoints.</summary>
public interface IPromptTokenizer
{
    Task<IReadOnlyList<int>> TokenizeAsync(string text, CancellationToken ct);

    Task<string> DetokenizeAsync(IReadOnlyList<int> tokens, CancellationToken ct);
}

/// <summary><see cref="IPromptTokenizer"/> over an OpenAI-compatible server that offers <c>/tokenize</c> and <c>/detokenize</c>.</summary>
public sealed class ServerPromptTokenizer : IPromptTokenizer
{
    private readonly OpenAiClient _client;
    private readonly string _model;

    private ServerPromptTokenizer(OpenAiClient client, string model)
    {
        _client = client;
        _model = model;
    }

    /// <summary>The server's tokenizer, or null when it offers no <c>/tokenize</c> or no <c>/detokenize</c> (404/405).</summary>
    public static async Task<ServerPromptTokenizer?> ProbeAsync(OpenAiClient client, string model, CancellationToken ct)
    {
        var ids = await client.TokenizeAsync(model, "Hello", ct).ConfigureAwait(false);
        if (ids is null) return null;
        var text = await client.DetokenizeAsync(model, ids, ct).ConfigureAwait(false);
        return text is null ? null : new ServerPromptTokenizer(client, model);
    }

    public async Task<IReadOnlyList<int>> TokenizeAsync(string text, CancellationToken ct) =>
        await _client.TokenizeAsync(_model, text, ct).ConfigureAwait(false)
        ?? throw new OpenAiException($"{_client.Endpoint}: /tokenize is no longer offered.");

    public async Task<string> DetokenizeAsync(IReadOnlyList<int> tokens, CancellationToken ct) =>
        await _client.DetokenizeAsync(_model, tokens, ct).ConfigureAwait(false)
        ?? throw new OpenAiException($"{_client.Endpoint}: /detokenize is no longer offered.");
}
