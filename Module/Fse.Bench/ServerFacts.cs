using Fse.Client;

namespace Fse.Bench;

/// <summary>
/// What the benchmark records about the server: the served model id requests are sent to, the FSE mode, the device,
/// the vocabulary size and the context length. The server's own /v1/models answer wins; the caller's handle fills gaps.
/// </summary>
public sealed record ServerFacts(string Model, string? Fse, string? Device, int? VocabSize, int? MaxModelLen)
{
    public static async Task<ServerFacts> ReadAsync(OpenAiClient client, BenchmarkServer known, CancellationToken ct)
    {
        var models = await client.GetModelsAsync(ct).ConfigureAwait(false);
        if (models.Count == 0) throw new BenchmarkSetupException($"{client.Endpoint}/v1/models lists no model.");
        // A handle's Model may be a checkpoint path rather than the served id: use it only when it is served.
        var card = models.FirstOrDefault(m => string.Equals(m.Id, known.Model, StringComparison.Ordinal)) ?? models[0];
        return new ServerFacts(card.Id, NormalizeFse(card.Fse ?? known.Fse), card.Device ?? known.Device, card.VocabSize, card.MaxModelLen);
    }

    /// <summary>"on"/"off" in any case become "On"/"Off"; other values are kept as given.</summary>
    public static string? NormalizeFse(string? fse) => fse?.Trim().ToLowerInvariant() switch
    {
        null or "" => null,
        "on" or "true" or "1" => "On",
        "off" or "false" or "0" => "Off",
        _ => fse.Trim(),
    };
}
