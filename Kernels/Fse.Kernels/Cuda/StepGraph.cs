using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace Fse.Kernels.Cuda;

/// <summary>
/// One recorded decode step (a CUDA graph) with everything it addresses: the buffers and scratch its ops used while it
/// recorded, the page-locked regions its uploads copy from, and its output. A replay writes the new step's token ids,
/// logit rows and batch tables into those regions and launches the graph: one launch instead of hundreds. The graph ends
/// by copying its output and the kernels' status flags into page-locked host memory (<see cref="HostOutput"/>,
/// <see cref="HostStatus"/>) when the output is small, so a replay waits once and reads both there: a pageable download
/// of a vocabulary row of logits took ~80 µs of a ~1.5 ms step on the H100, and reading the flags back was a second wait.
/// </summary>
internal sealed class StepGraph : IDisposable
{
    private readonly CudaDriver _driver;
    private readonly BufferPool _pool;
    private nint _graph, _exec;

    public StepGraph(CudaDriver driver, BufferPool pool, Workspace workspace, PinnedStaging staging)
    {
        _driver = driver;
        _pool = pool;
        Workspace = workspace;
        Staging = staging;
    }

    public BufferPool.Arena Arena { get; } = new();
    public Workspace Workspace { get; }
    public PinnedStaging Staging { get; }
    public CudaTensor? Output { get; private set; }

    /// <summary>Where the graph's last copies put its output and the status flags.</summary>
    public PageLockedArray1D<float>? HostOutput { get; private set; }

    public PageLockedArray1D<int>? HostStatus { get; private set; }

    /// <summary>
    /// Queues (while the stream records) the copies of <paramref name="output"/> and <paramref name="status"/> into
    /// page-locked host memory that end every replay.
    /// </summary>
    public void CopyOutAtEnd(Accelerator accelerator, CudaTensor output, ArrayView<int> status)
    {
        HostOutput = accelerator.AllocatePageLocked1D<float>(Math.Max(1, output.ElementCount));
        HostStatus = accelerator.AllocatePageLocked1D<int>(status.Length);
        if (output.ElementCount > 0) output.F32.CopyToCPUUnsafeAsync(accelerator.DefaultStream, ref HostOutput.Span[0], output.ElementCount);
        status.CopyToCPUUnsafeAsync(accelerator.DefaultStream, ref HostStatus.Span[0], status.Length);
    }

    /// <summary>Takes the captured graph and instantiates it.</summary>
    public void Finish(nint graph, CudaTensor output)
    {
        _graph = graph;
        _exec = _driver.Instantiate(graph);
        Output = output;
    }

    /// <summary>Writes the step's inputs where the graph's copies read them, then launches it on <paramref name="stream"/>.</summary>
    public void Replay(ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> logitRows, SequenceBatch batch, nint stream)
    {
        foreach (var (offset, bytes, what) in Staging.Recorded)
        {
            var values = what.Kind switch
            {
                StagedInputKind.TokenIds => MemoryMarshal.AsBytes(tokenIds),
                StagedInputKind.LogitRows => MemoryMarshal.AsBytes(logitRows),
                _ => DeviceBatch.Values(what, batch),
            };
            if (values.Length != bytes) throw new InvalidOperationException($"A recorded step's {what.Kind} input was {bytes} bytes; this step's is {values.Length}.");
            values.CopyTo(Staging.Region(offset, bytes));
        }
        Launch(stream);
    }

    /// <summary>Launches the graph with whatever its staged inputs hold now.</summary>
    public void Launch(nint stream) => _driver.Launch(_exec, stream);

    public void Dispose()
    {
        _driver.Destroy(_exec, _graph);
        _exec = _graph = 0;
        Output?.Dispose();
        Output = null;
        HostOutput?.Dispose();
        HostStatus?.Dispose();
        HostOutput = null;
        HostStatus = null;
        _pool.Release(Arena);
        Workspace.Dispose();
        Staging.Dispose();
    }
}
