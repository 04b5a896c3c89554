namespace Fse.Bench;

public enum BenchmarkPhase
{
    PreparingPrompts,
    WarmingUp,
    Running,
    Finished,
}

/// <summary>
/// A snapshot of a sweep, reported from worker threads (a few times a second while a point runs, and at each phase
/// change). <see cref="LiveOutputTokensPerSecond"/> counts choice-bearing chunks over the run's elapsed time.
/// </summary>
public sealed record BenchmarkProgress(
    int PointIndex, int PointCount, BenchmarkGridPoint Point, BenchmarkPhase Phase,
    int RequestsDone, int RequestsFailed, int RequestsTotal, double ElapsedSeconds, double LiveOutputTokensPerSecond);
