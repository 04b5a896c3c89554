namespace Fse.Eval.Running;

/// <summary>What a run's results record about where and how it ran.</summary>
public sealed record AccuracyRunInfo
{
    public string? Server { get; init; }
    public required string Model { get; init; }
    public string? Fse { get; init; }
    public string? Device { get; init; }
    public int Concurrency { get; init; }
    public int MaxTokens { get; init; }
    public DateTimeOffset StartedAt { get; init; } = DateTimeOffset.UtcNow;
}
