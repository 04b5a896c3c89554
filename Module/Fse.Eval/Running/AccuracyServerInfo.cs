using Fse.Client;

namespace Fse.Eval.Running;

/// <summary>The model to ask for and what the server says about itself (FSE mode, device), from <c>GET /v1/models</c>.</summary>
public sealed record AccuracyServerInfo(string Model, string? Fse, string? Device)
{
    /// <summary>
    /// The model is <paramref name="model"/> when given, else the first model the server lists, else the handle's
    /// <paramref name="modelHint"/>. FSE mode and device come from the server's entry for that model when it reports
    /// them (fse-server does), else from the handle's hints.
    /// </summary>
    public static async Task<AccuracyServerInfo> ResolveAsync(OpenAiClient client, string? model = null, string? modelHint = null,
        string? fseHint = null, string? deviceHint = null, CancellationToken ct = default)
    {
        IReadOnlyList<ModelCard> cards;
        try
        {
            cards = await client.GetModelsAsync(ct).ConfigureAwait(false);
        }
        catch (OpenAiException) when (model is not null || modelHint is not null)
        {
            cards = [];   // the server does not list models, but the caller named one
        }
        catch (OpenAiException e)
        {
            throw new OpenAiException($"Cannot tell which model to ask for: {e.Message}. Name the model (-Model).", e.StatusCode, e.ErrorType, e.ErrorCode, e);
        }
        var chosen = model ?? (cards.Count > 0 ? cards[0].Id : modelHint)
            ?? throw new OpenAiException($"{client.Endpoint}/v1/models lists no model. Name the model (-Model).");
        var card = cards.FirstOrDefault(c => c.Id == chosen);
        return new AccuracyServerInfo(chosen, card?.Fse ?? fseHint, card?.Device ?? deviceHint);
    }
}
