using System.Diagnostics;
using Fse.Kernels.Cuda;

namespace Fse.Kernels.Profiling;

/// <summary>One op's totals in a <see cref="ProfilingBackend"/>.</summary>
/// <param name="Op">The op and the shape that sets its cost (a MatMul's weight, an expert pass's token count).</param>
/// <param name="TotalMs">Its time: device time on CUDA, else host time to completion.</param>
/// <param name="HostMs">Host time spent in the op's calls (on CUDA: enqueueing it, which the device does not wait for).</param>
public sealed record OpTiming(string Op, int Calls, double TotalMs, double HostMs)
{
    public double MeanUs => Calls == 0 ? 0 : TotalMs * 1000 / Calls;
    public double MeanHostUs => Calls == 0 ? 0 : HostMs * 1000 / Calls;
}

/// <summary>
/// Wraps a backend and times every op. On a CUDA device the time is the op's device time, between two events
/// recorded on the stream around it, and the ops run asynchronously as usual (the events cost host time, so a step
/// under the profiler may take longer). Elsewhere each op is timed to completion: it is followed by
/// <see cref="IBackend.Synchronize"/>, so the time includes one launch-and-wait. For finding where a step's time goes,
/// never for step timings.
/// <para>Steps go through the inner backend's step graphs (<see cref="IStepGraphs"/>) when it has them: a recorded step's
/// events are nodes of its graph, so each replay times every op on the device with no host work between ops (host
/// time then counts as 0).</para>
/// </summary>
public sealed class ProfilingBackend(IBackend inner) : IBackend, IStepGraphs
{
    private readonly Dictionary<string, (int Calls, long Ticks, long HostTicks)> _ops = [];
    private readonly List<(string Op, StreamEvent Start, StreamEvent End, long HostTicks)> _pending = [];
    private readonly Dictionary<(object Owner, int Tokens, int Rows), List<(string Op, StreamEvent Start, StreamEvent End, long HostTicks)>> _recorded = [];
    private readonly Stopwatch _clock = new();

    public string Name => inner.Name;
    public long? MemoryBytes => inner.MemoryBytes;

    /// <summary>Whether op times are device times from stream events (CUDA) rather than host times to completion.</summary>
    public bool DeviceTimes => inner is CudaBackend { SupportsMarkers: true };

    /// <summary>Op totals so far, the most expensive first (waits for the device on CUDA).</summary>
    public IReadOnlyList<OpTiming> Timings
    {
        get
        {
            Collect();
            return [.. _ops.Select(kv => new OpTiming(kv.Key, kv.Value.Calls, kv.Value.Ticks * 1000.0 / Stopwatch.Frequency,
                    kv.Value.HostTicks * 1000.0 / Stopwatch.Frequency))
                .OrderByDescending(t => t.TotalMs)];
        }
    }

    public void Reset()
    {
        inner.Synchronize();
        foreach (var (_, start, end, _) in _pending)
        {
            start.Dispose();
            end.Dispose();
        }
        _pending.Clear();
        _ops.Clear();
    }

    public Tensor Allocate(DType dtype, params int[] shape)
    {
        Tensor? t = null;
        Time("Allocate (zero-filled)", () => t = inner.Allocate(dtype, shape));
        return t!;
    }

    public Tensor Empty(DType dtype, params int[] shape) => inner.Empty(dtype, shape);

    public Tensor Upload(HostTensor source) => inner.Upload(source);

    public Tensor Upload(RandomMatrix source, int[]? shape = null) => inner.Upload(source, shape);

    public Tensor Upload(ReadOnlySpan<float> data, params int[] shape) => inner.Upload(data, shape);

    public Tensor Upload(ReadOnlySpan<int> data, params int[] shape)
    {
        long start = Stopwatch.GetTimestamp();
        var t = inner.Upload(data, shape);
        Add("Upload (ids, host time only)", 0, Stopwatch.GetTimestamp() - start);
        return t;
    }
    public void Download(Tensor source, Span<float> destination) => inner.Download(source, destination);
    public void Download(Tensor source, Span<int> destination) => inner.Download(source, destination);
    public void Synchronize() => inner.Synchronize();
    public ExpertSet CreateExpertSet(IReadOnlyList<ExpertSlot> slots) => inner.CreateExpertSet(slots);
    public void Dispose()
    {
        Reset();
        inner.Dispose();
    }

    public void Embedding(Tensor ids, Tensor table, Tensor output) => Time("Embedding", () => inner.Embedding(ids, table, output));

    public void RmsNorm(Tensor x, Tensor weight, Tensor output, float eps, bool unitOffset) =>
        Time("RmsNorm", () => inner.RmsNorm(x, weight, output, eps, unitOffset));

    public void Add(Tensor a, Tensor b, Tensor output) => Time("Add", () => inner.Add(a, b, output));

    public void AddRmsNorm(Tensor residual, Tensor delta, Tensor weight, Tensor output, float eps, bool unitOffset) =>
        Time("AddRmsNorm", () => inner.AddRmsNorm(residual, delta, weight, output, eps, unitOffset));

    public void MatMul(Tensor x, Tensor weight, Tensor? bias, Tensor output) =>
        Time($"MatMul {weight.Dim(0)}x{weight.Dim(-1)} {weight.DType}, T={x.Rows}", () => inner.MatMul(x, weight, bias, output));

    public void MatMulSplit(Tensor x, Tensor weight, Tensor? bias, IReadOnlyList<Tensor> outputs) =>
        Time($"MatMulSplit {weight.Dim(0)}x{weight.Dim(-1)} {weight.DType} in {outputs.Count}, T={x.Rows}", () => inner.MatMulSplit(x, weight, bias, outputs));

    public void SiluMul(Tensor gate, Tensor up, Tensor output) => Time("SiluMul", () => inner.SiluMul(gate, up, output));

    public void SigmoidMul(Tensor x, Tensor gate, Tensor output) => Time("SigmoidMul", () => inner.SigmoidMul(x, gate, output));

    public void SigmoidScaleAdd(Tensor output, Tensor x, Tensor gateLogit) =>
        Time("SigmoidScaleAdd", () => inner.SigmoidScaleAdd(output, x, gateLogit));

    public void Rope(Tensor x, SequenceBatch batch, int rotaryDim, float theta) => Time("Rope", () => inner.Rope(x, batch, rotaryDim, theta));

    public void ArgMax(Tensor x, Tensor output) => Time("ArgMax", () => inner.ArgMax(x, output));

    public void NormRopeQueryKey(Tensor q, Tensor k, Tensor? queryNorm, Tensor? keyNorm, float eps, bool unitOffset, SequenceBatch batch, int rotaryDim, float theta) =>
        Time("NormRopeQueryKey", () => inner.NormRopeQueryKey(q, k, queryNorm, keyNorm, eps, unitOffset, batch, rotaryDim, theta));

    public void PagedAttention(Tensor q, Tensor k, Tensor v, Tensor keyCache, Tensor valueCache, SequenceBatch batch, float scale, Tensor output) =>
        Time($"PagedAttention T={batch.TokenCount}", () => inner.PagedAttention(q, k, v, keyCache, valueCache, batch, scale, output));

    public void GatedDeltaNet(GatedDeltaNetArgs args, SequenceBatch batch) =>
        Time($"GatedDeltaNet T={batch.TokenCount}", () => inner.GatedDeltaNet(args, batch));

    public void RouteSoftmax(Tensor logits, int experts, int topK, bool renormalize, int sharedSlots, Tensor ids, Tensor weights) =>
        Time("RouteSoftmax", () => inner.RouteSoftmax(logits, experts, topK, renormalize, sharedSlots, ids, weights));

    public void RouteSigmoidGrouped(Tensor logits, Tensor bias, int topK, int groups, int topkGroups, bool renormalize, float scale, int sharedSlots, Tensor ids, Tensor weights) =>
        Time("RouteSigmoidGrouped", () => inner.RouteSigmoidGrouped(logits, bias, topK, groups, topkGroups, renormalize, scale, sharedSlots, ids, weights));

    public void MoeExperts(Tensor x, Tensor ids, Tensor weights, ExpertSet experts, Tensor output) =>
        Time($"MoeExperts {ids.Dim(-1)} slots, T={x.Rows}", () => inner.MoeExperts(x, ids, weights, experts, output));

    private void Time(string op, Action run)
    {
        if (inner is CudaBackend { SupportsMarkers: true } cuda)
        {
            var start = cuda.AddMarker();
            _clock.Restart();
            run();
            _clock.Stop();
            _pending.Add((op, start, cuda.AddMarker(), _clock.ElapsedTicks));
            return;
        }
        inner.Synchronize();
        _clock.Restart();
        run();
        inner.Synchronize();
        _clock.Stop();
        Add(op, _clock.ElapsedTicks, _clock.ElapsedTicks);
    }

    public long StepGraphsRecorded => inner is IStepGraphs g ? g.StepGraphsRecorded : 0;

    public long StepGraphReplays => inner is IStepGraphs g ? g.StepGraphReplays : 0;

    public void RunStep(object owner, ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> logitRows, int outputColumns, SequenceBatch batch,
        Action<Tensor, Tensor, Tensor> step, Span<float> output)
    {
        if (inner is not CudaBackend { SupportsStepGraphs: true } cuda)
        {
            EagerStep.Run(this, tokenIds, logitRows, outputColumns, step, output);
            return;
        }
        var key = (owner, batch.TokenCount, logitRows.Length);
        int first = _pending.Count;
        bool ran = false;
        long replays = cuda.StepGraphReplays;
        cuda.RunStep(owner, tokenIds, logitRows, outputColumns, batch, (i, r, o) =>
        {
            ran = true;
            step(i, r, o);
        }, output);
        if (cuda.StepGraphReplays == replays) return; // ran eagerly: its events are pending as usual
        if (ran)
        {
            // Recorded just now: the events belong to the graph (never disposed while it may replay).
            _recorded[key] = _pending.GetRange(first, _pending.Count - first);
            _pending.RemoveRange(first, _pending.Count - first);
        }
        if (_recorded.TryGetValue(key, out var events))
            foreach (var (op, start, end, _) in events) Add(op, (long)(end.MeasureFrom(start).TotalSeconds * Stopwatch.Frequency), 0);
    }

    private void Collect()
    {
        if (_pending.Count == 0) return;
        inner.Synchronize();
        foreach (var (op, start, end, host) in _pending)
        {
            Add(op, (long)(end.MeasureFrom(start).TotalSeconds * Stopwatch.Frequency), host);
            start.Dispose();
            end.Dispose();
        }
        _pending.Clear();
    }

    private void Add(string op, long ticks, long hostTicks) =>
        _ops[op] = _ops.TryGetValue(op, out var o) ? (o.Calls + 1, o.Ticks + ticks, o.HostTicks + hostTicks) : (1, ticks, hostTicks);
}
