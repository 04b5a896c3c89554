namespace Fse.Kernels.Cuda;

/// <summary>What a staged upload of a step holds, so a step graph's replay can write the same input for a new step.</summary>
internal readonly record struct StagedInput(StagedInputKind Kind, int RotaryDim = 0, float Theta = 0, int MinTokens = 0)
{
    public static StagedInput TokenIds => new(StagedInputKind.TokenIds);
    public static StagedInput LogitRows => new(StagedInputKind.LogitRows);
    public static StagedInput BatchTables => new(StagedInputKind.BatchTables);
    public static StagedInput Rope(int rotaryDim, float theta) => new(StagedInputKind.Rope, rotaryDim, theta);
    public static StagedInput DenseFlags(int minTokens) => new(StagedInputKind.DenseFlags, MinTokens: minTokens);
}

internal enum StagedInputKind
{
    TokenIds,
    LogitRows,
    BatchTables,
    Rope,
    DenseFlags,
}

/// <summary>A step did something a graph cannot replay (it then runs without one).</summary>
internal sealed class StepCaptureException(string what) : InvalidOperationException($"The step cannot be recorded as a graph: {what}.");
