namespace Fse.Eval.Running;

/// <summary>How requests are sent: concurrency, generation length, the request seed, retries and their backoff.</summary>
public sealed record AccuracyRunOptions
{
    /// <summary>Requests in flight at once.</summary>
    public int Concurrency { get; init; } = 8;

    /// <summary>max_tokens per request; null for the task's max_gen_toks (256 for gsm8k).</summary>
    public int? MaxTokens { get; init; }

    /// <summary>The <c>seed</c> field of each request (lm-eval's API models send 1234); null to send none.</summary>
    public long? RequestSeed { get; init; } = 1234;

    /// <summary>Further attempts after a 429, a 5xx, no response, or an answer without text.</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>The first backoff; each retry doubles it, up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>How long one request may take before it counts as unanswered (and is retried).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public void Validate()
    {
        if (Concurrency < 1) throw new ArgumentOutOfRangeException(nameof(Concurrency), "Concurrency must be at least 1.");
        if (MaxTokens is < 1) throw new ArgumentOutOfRangeException(nameof(MaxTokens), "MaxTokens must be at least 1.");
        if (MaxRetries < 0) throw new ArgumentOutOfRangeException(nameof(MaxRetries), "MaxRetries must be 0 or more.");
        if (RequestTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(RequestTimeout), "RequestTimeout must be positive.");
    }
}
