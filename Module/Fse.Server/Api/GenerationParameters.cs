namespace Fse.Server.Api;

/// <summary>The request fields <c>/v1/completions</c> and <c>/v1/chat/completions</c> share, read and checked.</summary>
public sealed record GenerationParameters
{
    public string? Model { get; init; }
    public int? MaxTokens { get; init; }
    public double Temperature { get; init; } = 1.0;
    public double TopP { get; init; } = 1.0;
    public long? Seed { get; init; }
    public IReadOnlyList<string> Stop { get; init; } = [];
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];
    public bool IgnoreEos { get; init; }
    public bool Stream { get; init; }
    public bool IncludeUsage { get; init; }
    public bool SkipSpecialTokens { get; init; } = true;
    public bool IncludeStopString { get; init; }
    public bool ReturnTokenIds { get; init; }

    public static GenerationParameters Parse(JsonFields f, bool chat)
    {
        int? maxTokens = f.Int("max_tokens");
        if (chat && f.Int("max_completion_tokens") is { } mct) maxTokens = mct;
        if (maxTokens is < 1)
            throw ApiException.BadRequest($"max_tokens must be at least 1, got {maxTokens}.", chat && f.Has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens");
        double temperature = f.Number("temperature") ?? 1.0;
        if (!(temperature >= 0) || double.IsInfinity(temperature))
            throw ApiException.BadRequest($"temperature must be a finite number of at least 0, got {temperature}.", "temperature");
        double topP = f.Number("top_p") ?? 1.0;
        if (!(topP > 0 && topP <= 1)) throw ApiException.BadRequest($"top_p must be in (0, 1], got {topP}.", "top_p");
        int n = f.Int("n") ?? 1;
        if (n != 1) throw ApiException.BadRequest($"Only n = 1 is supported (one choice per prompt), got {n}.", "n");
        if (f.Int("best_of") is { } bestOf && bestOf != 1) throw ApiException.BadRequest($"Only best_of = 1 is supported, got {bestOf}.", "best_of");
        foreach (var penalty in (string[])["presence_penalty", "frequency_penalty"])
            if (f.Number(penalty) is { } p && p != 0) throw ApiException.BadRequest($"{penalty} is not supported by this server; leave it out or 0.", penalty);
        if (f.Number("repetition_penalty") is { } rp && rp != 1) throw ApiException.BadRequest("repetition_penalty is not supported by this server; leave it out or 1.", "repetition_penalty");
        if (f.Raw("logit_bias") is { ValueKind: System.Text.Json.JsonValueKind.Object } lb && lb.EnumerateObject().Any())
            throw ApiException.BadRequest("logit_bias is not supported by this server.", "logit_bias");
        var stop = f.Strings("stop");
        if (stop.Any(string.IsNullOrEmpty)) throw ApiException.BadRequest("A stop string cannot be empty.", "stop");
        bool stream = f.Bool("stream") ?? false;
        var streamOptions = f.Object("stream_options");
        if (streamOptions is not null && !stream) throw ApiException.BadRequest("stream_options is only allowed when stream is true.", "stream_options");
        return new GenerationParameters
        {
            Model = f.String("model"),
            MaxTokens = maxTokens,
            Temperature = temperature,
            TopP = topP,
            Seed = f.Long("seed"),
            Stop = stop,
            StopTokenIds = f.Ints("stop_token_ids"),
            IgnoreEos = f.Bool("ignore_eos") ?? false,
            Stream = stream,
            IncludeUsage = streamOptions?.Bool("include_usage") ?? false,
            SkipSpecialTokens = f.Bool("skip_special_tokens") ?? true,
            IncludeStopString = f.Bool("include_stop_str_in_output") ?? false,
            ReturnTokenIds = f.Bool("return_token_ids") ?? false,
        };
    }
}
