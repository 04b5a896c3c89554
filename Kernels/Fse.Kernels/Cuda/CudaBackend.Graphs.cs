using ILGPU.Runtime.Cuda;

namespace Fse.Kernels.Cuda;

public sealed partial class CudaBackend : IStepGraphs
{
    /// <summary>Recorded steps kept at once; the least recently replayed goes first.</summary>
    private const int MaxStepGraphs = 16;

    /// <summary>
    /// Largest step output a graph copies into its own page-locked memory (see <see cref="StepGraph"/>). Larger ones are
    /// downloaded as eager steps' are: at 64 rows of logits (39 MB) the copy out of page-locked memory made H100 steps
    /// ~10 % slower, at one to four rows the page-locked copy saved ~50 µs a step.
    /// </summary>
    private const long PageLockedOutputBytes = 4L << 20;

    /// <summary>Page-locked bytes for one graph's inputs (ids, rows, batch and rotary tables of a decode step).</summary>
    private const long GraphStagingBytes = 1L << 20;

    private readonly Dictionary<StepKey, StepGraph> _graphs = [];
    private readonly LinkedList<StepKey> _graphOrder = new();
    private readonly HashSet<StepKey> _unrecordable = [];
    private readonly CudaDriver? _driver;
    private readonly CudaStream? _stream;

    /// <summary>True while a step graph records: ops size their launches for the batch's capacity, not its current contents.</summary>
    private bool _recording;

    /// <summary>What a recorded step depends on beyond its uploaded inputs.</summary>
    private readonly record struct StepKey(object Owner, int Tokens, int Sequences, int MaxBlocksPerSeq, int BlockSize, int Rows, int Columns);

    /// <summary>Step graphs recorded and kept now.</summary>
    public int StepGraphCount => _graphs.Count;

    /// <summary>Steps run by replaying a graph so far.</summary>
    public long StepGraphReplays { get; private set; }

    /// <summary>Steps recorded into a new graph so far.</summary>
    public long StepGraphsRecorded { get; private set; }

    /// <summary>Whether this backend can record step graphs at all (a CUDA device, the driver's graph API found).</summary>
    public bool SupportsStepGraphs => _driver is not null && _stream is not null;

    public void RunStep(object owner, ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> logitRows, int outputColumns, SequenceBatch batch,
        Action<Tensor, Tensor, Tensor> step, Span<float> output)
    {
        Enter();
        if (tokenIds.Length != batch.TokenCount) throw new ArgumentException($"{tokenIds.Length} token ids for a batch of {batch.TokenCount} tokens.", nameof(tokenIds));
        long n = (long)logitRows.Length * outputColumns;
        if (output.Length < n) throw new ArgumentException($"The output holds {output.Length} values; the step writes {n}.", nameof(output));
        if (!Recordable(batch, logitRows.Length))
        {
            RunEager(tokenIds, logitRows, outputColumns, step, output);
            return;
        }
        var key = new StepKey(owner, batch.TokenCount, batch.SequenceCount, batch.MaxBlocksPerSeq, batch.BlockSize, logitRows.Length, outputColumns);
        if (_graphs.TryGetValue(key, out var graph))
        {
            _graphOrder.Remove(key);
        }
        else
        {
            graph = _unrecordable.Contains(key) ? null : Record(tokenIds, logitRows, outputColumns, batch, step);
            if (graph is null)
            {
                _unrecordable.Add(key);
                RunEager(tokenIds, logitRows, outputColumns, step, output);
                return;
            }
            _graphs[key] = graph;
            StepGraphsRecorded++;
            if (_graphs.Count > MaxStepGraphs)
            {
                var oldest = _graphOrder.First!.Value;
                _graphOrder.RemoveFirst();
                _acc.Synchronize();
                _graphs.Remove(oldest, out var evicted);
                evicted!.Dispose();
            }
        }
        _graphOrder.AddLast(key);
        _lastReplayed = graph;
        graph.Replay(tokenIds, logitRows, batch, _stream!.StreamPtr);
        StepGraphReplays++;
        if (graph.HostOutput is null)
        {
            CopyOut(graph.Output!.F32.SubView(0, n), output[..(int)n]);
            return;
        }
        _acc.Synchronize();
        _staging.Reset();
        graph.HostOutput.Span[..(int)n].CopyTo(output);
        CheckStatus(graph.HostStatus!.Span);
    }

    /// <summary>
    /// Decode steps only (one token per sequence, none at position 0): their ops take every varying value from uploaded
    /// tables. Steps that read results back mid-step (expert GEMMs) run eagerly, and so do steps that use cuBLAS unless
    /// <see cref="CudaBackendOptions.StepGraphsWithCublas"/>.
    /// </summary>
    private bool Recordable(SequenceBatch batch, int rows)
    {
        int t = batch.TokenCount;
        if (!SupportsStepGraphs || !Options.StepGraphs || t == 0 || rows == 0 || t != batch.SequenceCount || t > Options.StepGraphMaxTokens) return false;
        if (_cublas is not null && Options.UseCublas && t >= Options.CublasMinTokens && !Options.StepGraphsWithCublas) return false;
        if (t >= Options.MoeCublasMinTokens) return false;
        foreach (int p in batch.Positions)
            if (p == 0) return false;
        return true;
    }

    /// <summary>Records <paramref name="step"/> into a new graph, or returns null (nothing ran) when the step cannot be recorded.</summary>
    private StepGraph? Record(ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> logitRows, int outputColumns, SequenceBatch batch, Action<Tensor, Tensor, Tensor> step)
    {
        var driver = _driver!;
        nint stream = _stream!.StreamPtr;
        _acc.Synchronize();
        var graph = new StepGraph(driver, _pool, new Workspace(_acc, keepOutgrown: true), new PinnedStaging(_acc, GraphStagingBytes));
        var (workspace, staging, batchState) = (_ws, _staging, batch.DeviceState);
        _ws = graph.Workspace;
        _staging = graph.Staging;
        _pool.BeginCapture(graph.Arena);
        batch.DeviceState = null;
        _recording = true;
        bool capturing = false;
        try
        {
            driver.BeginCapture(stream);
            capturing = true;
            _k.BeforeLaunch = ProgrammaticEdgeHook(driver, stream);
            var output = CudaTensor.Allocate(this, _pool, DType.F32, [logitRows.Length, outputColumns]);
            using (var ids = CudaTensor.Allocate(this, _pool, DType.I32, [tokenIds.Length]))
            using (var rows = CudaTensor.Allocate(this, _pool, DType.I32, [logitRows.Length]))
            {
                _staging.Upload(ids.I32, tokenIds, StagedInput.TokenIds);
                _staging.Upload(rows.I32, logitRows, StagedInput.LogitRows);
                step(ids, rows, output);
            }
            if (output.ElementCount * sizeof(float) <= PageLockedOutputBytes) graph.CopyOutAtEnd(_acc, output, _status.View);
            capturing = false;
            graph.Finish(driver.EndCapture(stream), output);
            return graph;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            if (capturing) driver.AbandonCapture(stream);
            graph.Dispose();
            LastStepGraphFailure = e.Message;
            return null;
        }
        finally
        {
            _k.BeforeLaunch = null;
            _recording = false;
            _pool.EndCapture();
            (_ws, _staging) = (workspace, staging);
            batch.DeviceState = batchState;
        }
    }

    private StepGraph? _lastReplayed;

    /// <summary>
    /// Device time of the step graph replayed last, launched <paramref name="replays"/> times back to back with the inputs
    /// of its last replay (diagnostics: against a step's wall time this leaves the host's share); null when none was replayed.
    /// Only while the state that replay updated is still alive: the graph addresses its buffers.
    /// </summary>
    public TimeSpan? MeasureLastStepGraph(int replays)
    {
        Enter();
        if (_lastReplayed is not { } graph || replays < 1) return null;
        _acc.Synchronize();
        nint stream = _stream!.StreamPtr;
        using var start = AddMarker();
        for (int i = 0; i < replays; i++) graph.Launch(stream);
        using var end = AddMarker();
        _acc.Synchronize();
        CheckStatus();
        return end.MeasureFrom(start) / replays;
    }

    /// <summary>Why the last step that could not be recorded failed (diagnostics; null when none failed).</summary>
    public string? LastStepGraphFailure { get; private set; }

    /// <summary>Kernel-to-kernel edges made programmatic in the last recorded step.</summary>
    public int ProgrammaticEdges { get; private set; }

    /// <summary>
    /// While a step records with <see cref="CudaBackendOptions.ProgrammaticLaunch"/> on an sm_90 device and a CUDA 12.3
    /// driver: before each of this backend's kernels is launched, its edge from the previous node becomes programmatic
    /// when that node is also one of them (<see cref="CudaDriver.MakeNextEdgeProgrammatic"/>); counted in <see cref="ProgrammaticEdges"/>.
    /// </summary>
    private Action? ProgrammaticEdgeHook(CudaDriver driver, nint stream)
    {
        ProgrammaticEdges = 0;
        if (!Options.ProgrammaticLaunch || _k.Functions.Count == 0 || !_k.WaitsForPredecessor || !driver.HasProgrammaticEdges) return null;
        return () =>
        {
            if (driver.MakeNextEdgeProgrammatic(stream, _k.Functions)) ProgrammaticEdges++;
        };
    }

    private void RunEager(ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> logitRows, int outputColumns, Action<Tensor, Tensor, Tensor> step, Span<float> output) =>
        EagerStep.Run(this, tokenIds, logitRows, outputColumns, step, output);

    private void DisposeStepGraphs()
    {
        _lastReplayed = null;
        foreach (var g in _graphs.Values) g.Dispose();
        _graphs.Clear();
        _graphOrder.Clear();
    }
}
