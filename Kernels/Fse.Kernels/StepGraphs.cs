namespace Fse.Kernels;

/// <summary>
/// A backend that can record the ops of one forward step and replay them as one launch for later steps of the same
/// shape (CUDA graphs): the launches' host cost is paid once instead of every step.
/// </summary>
public interface IStepGraphs
{
    /// <summary>
    /// Runs <paramref name="step"/> on device copies of <paramref name="tokenIds"/> (I32 [T]) and <paramref name="logitRows"/>
    /// (I32 [rows]), into an F32 [rows, <paramref name="outputColumns"/>] tensor it provides, and downloads that into
    /// <paramref name="output"/>. A decode step may be recorded the first time its shape is seen for
    /// <paramref name="owner"/> (the persistent tensors the step reads and writes: caches, states, weights) and replayed
    /// after that with the new ids, rows and batch tables; a step that cannot be recorded simply runs. Either way the ops
    /// and their results are those of <paramref name="step"/>.
    /// </summary>
    void RunStep(object owner, ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> logitRows, int outputColumns, SequenceBatch batch,
        Action<Tensor, Tensor, Tensor> step, Span<float> output);

    /// <summary>Steps recorded into a new graph so far (each ran while it recorded).</summary>
    long StepGraphsRecorded { get; }

    /// <summary>Steps run by replaying a graph so far.</summary>
    long StepGraphReplays { get; }
}

/// <summary>A step without a graph: what <see cref="IStepGraphs.RunStep"/> does when it does not replay.</summary>
public static class EagerStep
{
    /// <summary>Uploads the ids and rows, runs <paramref name="step"/> into a fresh output tensor and downloads it (when there are rows).</summary>
    public static void Run(IBackend backend, ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> logitRows, int outputColumns,
        Action<Tensor, Tensor, Tensor> step, Span<float> output)
    {
        using var ids = backend.Upload(tokenIds, tokenIds.Length);
        using var rows = backend.Upload(logitRows, logitRows.Length);
        using var result = backend.Empty(DType.F32, logitRows.Length, outputColumns);
        step(ids, rows, result);
        if (logitRows.Length > 0) backend.Download(result, output[..checked(logitRows.Length * outputColumns)]);
    }
}
