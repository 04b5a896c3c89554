namespace Fse.Bench;

/// <summary>Everything a sweep needs besides the server: the grid and the settings shared by its points.</summary>
public sealed record BenchmarkSettings
{
    public required IReadOnlyList<BenchmarkGridPoint> Grid { get; init; }

    /// <summary>Gamma shape of the inter-arrival gaps when a request rate is set (1 = Poisson).</summary>
    public double Burstiness { get; init; } = 1.0;

    /// <summary>Lengths are drawn uniformly from [L·(1−r), L·(1+r)]; 0 gives exact lengths.</summary>
    public double RangeRatio { get; init; }

    /// <summary>Seeds the prompts and the arrival times: the same seed gives the same requests.</summary>
    public int Seed { get; init; }

    /// <summary>Requests sent (with the first prompt, under the point's concurrency cap) before each point's timed run.</summary>
    public int WarmupRequests { get; init; }

    public string? Label { get; init; }

    /// <summary>The ids to draw prompts from, [0, VocabSize); null takes the server's <c>vocab_size</c> from /v1/models.</summary>
    public int? VocabSize { get; init; }

    /// <summary>A CSV file each finished point is appended to at once, so a crash or a stop loses no finished point.</summary>
    public string? OutFile { get; init; }
}

/// <summary>The server to measure and what the caller already knows about it (an FseServer handle knows its FSE mode, model and device).</summary>
public sealed record BenchmarkServer(Fse.Client.OpenAiEndpoint Endpoint, string? Model = null, string? Fse = null, string? Device = null);

/// <summary>A sweep that cannot start: no model served, no vocabulary size known, a bad grid.</summary>
public sealed class BenchmarkSetupException(string message, Exception? inner = null) : Exception(message, inner);
