using System.Runtime.CompilerServices;
using Fse.Kernels.Cuda.Device;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Fse.Kernels.Cuda;

/// <summary>
/// The op set as ILGPU kernels on one accelerator: a CUDA device, or ILGPU's CPU accelerator, which runs the same
/// kernels one OS thread per GPU thread (for tests on tiny shapes). Weights stay in their dtype on the device, activations
/// are F32, accumulation is F32. Every kernel is compiled in the constructor. Ops are queued on the accelerator's default
/// stream; <see cref="Download(Tensor, Span{float})"/> and <see cref="Synchronize"/> wait for them and report any
/// out-of-range index a kernel met (bad token id, cache slot, expert id, state slot) as an <see cref="InvalidOperationException"/>.
/// Not thread-safe: one caller at a time.
/// </summary>
public sealed unsafe partial class CudaBackend : IBackend
{
    private const int RecentBatches = 8;
    private static readonly Lazy<bool> CudaProbe = new(ProbeCuda);

    private readonly Context _context;
    private readonly Accelerator _acc;
    private readonly KernelSet _k;
    private Workspace _ws;
    private readonly BufferPool _pool;
    private PinnedStaging _staging;
    private readonly Cublas? _cublas;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _status;
    private readonly Queue<DeviceBatch> _batches = new();
    private readonly int _group, _side;
    private bool _disposed;

    private CudaBackend(Context context, Accelerator accelerator)
    {
        _context = context;
        _acc = accelerator;
        try
        {
            // 128 threads (4 warps) for row kernels on a GPU; the CPU accelerator's largest group (16 = 4 warps of 4) there.
            _group = Math.Min(128, _acc.MaxNumThreadsPerGroup);
            _side = _acc.MaxNumThreadsPerGroup >= 256 ? 16 : (int)Math.Sqrt(_acc.MaxNumThreadsPerGroup);
            if (_acc is CudaAccelerator cudaAcc && CudaDriver.Instance is { } driver && CapturableStream(cudaAcc) is { } stream)
            {
                _stream = stream;
                _driver = driver;
            }
            _k = new KernelSet(_acc);
            _ws = new Workspace(_acc);
            _pool = new BufferPool(_acc);
            _staging = new PinnedStaging(_acc);
            _status = _acc.Allocate1D<int>(Status.Count);
            _status.MemSetToZero();
            _cublas = Cublas.TryCreate(_acc, out var why);
            Description = _acc is CudaAccelerator cuda
                ? $"cuda: {_acc.Name} ({cuda.Architecture}), {_k.Methods.Count} kernels; " +
                  (_cublas is not null ? $"cuBLAS {_cublas.Library} for MatMul from {Options.CublasMinTokens} tokens"
                                       : $"cuBLAS not loaded ({why}): MatMul uses GEMV up to {Options.GemvMaxTokens} tokens, the tiled kernel above")
                : $"ILGPU CPU accelerator (warp {_acc.WarpSize}, group {_acc.MaxNumThreadsPerGroup}), {_k.Methods.Count} kernels; no cuBLAS: MatMul uses GEMV up to {Options.GemvMaxTokens} tokens, the tiled kernel above";
            _acc.Synchronize();
        }
        catch
        {
            // A failed kernel load can leave the accelerator unable to dispose cleanly; the first error is the one to report.
            try
            {
                _cublas?.Dispose();
                _acc.Dispose();
                _context.Dispose();
            }
            catch (Exception) { }
            throw;
        }
    }

    /// <summary>Whether a CUDA driver and at least one CUDA device are present (never throws).</summary>
    public static bool IsCudaAvailable => CudaProbe.Value;

    /// <summary>The backend on CUDA device <paramref name="device"/>.</summary>
    public static CudaBackend CreateCuda(int device = 0)
    {
        if (!IsCudaAvailable) throw new InvalidOperationException("No CUDA driver or device is available.");
        var context = CreateContext(cuda: true);
        try
        {
            var devices = context.GetCudaDevices();
            if ((uint)device >= (uint)devices.Count)
                throw new ArgumentOutOfRangeException(nameof(device), $"CUDA device {device} does not exist; there are {devices.Count}.");
            return new CudaBackend(context, devices[device].CreateCudaAccelerator(context));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>The same kernels on ILGPU's CPU accelerator (warp 4, groups of 16 threads): slow, for tests on tiny shapes.</summary>
    public static CudaBackend CreateCpuSimulation() => CreateCpuSimulation(null);

    /// <summary>
    /// The kernels on ILGPU's CPU accelerator with 32-lane warps, <paramref name="warpsPerGroup"/> warps per group and
    /// <paramref name="parallelGroups"/> groups running at once (one thread per lane: for the kernels written for 32-lane
    /// warps, such as <see cref="Device.MoeSingleTokenKernel"/>, on tiny shapes).
    /// </summary>
    public static CudaBackend CreateCpuSimulation32(int warpsPerGroup = 4, int parallelGroups = 2) =>
        CreateCpuSimulation(new CPUDevice(32, warpsPerGroup, parallelGroups));

    private static CudaBackend CreateCpuSimulation(CPUDevice? device)
    {
        var context = CreateContext(cuda: false);
        try
        {
            var accelerator = device is null
                ? context.GetCPUDevice(0).CreateCPUAccelerator(context, CPUAcceleratorMode.Parallel)
                : device.CreateCPUAccelerator(context, CPUAcceleratorMode.Parallel);
            return new CudaBackend(context, accelerator);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    public string Name => "cuda";

    public long? MemoryBytes => _acc.MemorySize;

    /// <summary>The device, the number of kernels and whether cuBLAS was loaded (and if not, why and what MatMul uses instead).</summary>
    public string Description { get; }

    /// <summary>The MatMul path thresholds; may be changed between ops.</summary>
    public CudaBackendOptions Options { get; set; } = new();

    /// <summary>Whether MatMul can use cuBLAS on this backend.</summary>
    public bool HasCublas => _cublas is not null;

    /// <summary>The accelerator the kernels run on (for tools that add kernels of their own on the same stream).</summary>
    public Accelerator Accelerator => _acc;

    internal IReadOnlyList<System.Reflection.MethodInfo> KernelMethods => _k.Methods;

    /// <summary>
    /// What the driver made of each loaded kernel: registers and spilled local bytes per thread, static shared memory, the
    /// largest group, and how many groups of <paramref name="groupSize"/> threads (with <paramref name="dynamicSharedBytes"/>
    /// of dynamic shared memory) one multiprocessor holds. Empty without a CUDA driver (the CPU accelerator).
    /// </summary>
    public IReadOnlyList<KernelResources> KernelResources(int groupSize, long dynamicSharedBytes = 0)
    {
        if (_driver is not { } d) return [];
        return [.. _k.FunctionsByName.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new KernelResources(kv.Key,
            d.FunctionAttribute(kv.Value, CudaDriver.AttributeRegisters), d.FunctionAttribute(kv.Value, CudaDriver.AttributeLocalBytes),
            d.FunctionAttribute(kv.Value, CudaDriver.AttributeStaticSharedBytes), d.FunctionAttribute(kv.Value, CudaDriver.AttributeMaxThreadsPerBlock),
            groupSize, d.MaxActiveGroups(kv.Value, groupSize, dynamicSharedBytes)))];
    }

    /// <summary>
    /// A timestamp recorded on the stream after the ops queued so far (a CUDA event); <see cref="StreamEvent.MeasureFrom"/>
    /// of two is the device time between them, once both have passed. Inside a step graph's recording it is part of the
    /// graph and is taken again at each replay.
    /// </summary>
    public StreamEvent AddMarker()
    {
        Enter();
        if (!SupportsMarkers) throw new NotSupportedException("Stream markers need a CUDA device.");
        return new StreamEvent(_driver!, _driver!.RecordEvent(_stream!.StreamPtr, external: _recording));
    }

    /// <summary>Whether <see cref="AddMarker"/> works: on a CUDA device whose driver exports the event calls, not on ILGPU's CPU accelerator.</summary>
    public bool SupportsMarkers => _driver is not null && _stream is not null;

    /// <summary>Device allocations served from the buffer pool so far.</summary>
    public long PooledAllocations => _pool.Reused;

    /// <summary>Takes back a tensor's buffer: into the pool while this backend lives, freed after.</summary>
    internal void Release(MemoryBuffer1D<byte, Stride1D.Dense> buffer)
    {
        if (_disposed) buffer.Dispose();
        else _pool.Return(buffer);
    }

    public Tensor Allocate(DType dtype, params int[] shape)
    {
        Enter();
        var t = CudaTensor.Allocate(this, _pool, dtype, shape);
        t.View.MemSetToZero();
        return t;
    }

    public Tensor Empty(DType dtype, params int[] shape)
    {
        Enter();
        return CudaTensor.Allocate(this, _pool, dtype, shape);
    }

    public Tensor Upload(HostTensor source)
    {
        Enter();
        var t = CudaTensor.Allocate(this, _pool, source.DType, source.Shape, exact: true);
        if (source.ByteLength > 0) t.View.CopyFromCPU(ref Unsafe.AsRef<byte>((void*)source.Data), source.ByteLength);
        return t;
    }

    public Tensor Upload(RandomMatrix source, int[]? shape = null)
    {
        Enter();
        var t = CudaTensor.Allocate(this, _pool, source.DType, new WeightTensor(source, shape).Shape, exact: true);
        Draw(t.View, source);
        return t;
    }

    /// <summary>Queues the kernels that draw <paramref name="source"/> into <paramref name="target"/>, one launch per block of rows.</summary>
    private void Draw(ArrayView<byte> target, RandomMatrix source)
    {
        int size = source.DType.Size(), code = source.DType switch { DType.F32 => 0, DType.F16 => 1, _ => 2 };
        long row = 0;
        foreach (var p in source.Parts)
        {
            long n = (long)p.Rows * source.Cols;
            if (n > 0)
            {
                _k.RandomNormal(Linear(n), new RandomArgs
                {
                    Output = target.SubView(row * source.Cols * size, n * size),
                    Key = p.Key, Scale = p.Scale, Offset = p.Offset, Stride = p.Stride,
                    Rows = p.Rows, Cols = source.Cols, ValidRows = p.ValidRows, ValidCols = p.ValidCols, DType = code,
                });
            }
            row += p.Rows;
        }
    }

    public Tensor Upload(ReadOnlySpan<float> data, params int[] shape)
    {
        Enter();
        var t = CudaTensor.Allocate(this, _pool, DType.F32, shape);
        if (data.Length != t.ElementCount) throw new ArgumentException($"{data.Length} values for a tensor of shape {t}.");
        _staging.Upload(t.F32, data);
        return t;
    }

    public Tensor Upload(ReadOnlySpan<int> data, params int[] shape)
    {
        Enter();
        var t = CudaTensor.Allocate(this, _pool, DType.I32, shape);
        if (data.Length != t.ElementCount) throw new ArgumentException($"{data.Length} values for a tensor of shape {t}.");
        _staging.Upload(t.I32, data);
        return t;
    }

    public void Download(Tensor source, Span<float> destination)
    {
        var view = T(source).F32;
        CopyOut(view, destination);
    }

    public void Download(Tensor source, Span<int> destination)
    {
        var view = T(source).I32;
        CopyOut(view, destination);
    }

    public void Synchronize()
    {
        Enter();
        _acc.Synchronize();
        _staging.Reset();
        CheckStatus();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        DisposeStepGraphs();
        while (_batches.Count > 0) _batches.Dequeue().Dispose();
        _cublas?.Dispose();
        _ws.Dispose();
        _pool.Dispose();
        _staging.Dispose();
        _status.Dispose();
        _acc.Dispose();
        _context.Dispose();
    }

    public void Embedding(Tensor ids, Tensor table, Tensor output)
    {
        var i = T(ids).I32;
        var tb = T(table);
        var o = T(output).F32;
        if (tb.Rank < 1 || tb.DType == DType.I32) throw new ArgumentException($"Not a float table with rows: {table}.");
        int width = tb.Dim(-1), rows = checked((int)tb.Rows), tokens = checked((int)ids.ElementCount);
        if (output.ElementCount != (long)tokens * width) throw new ArgumentException($"Expected [{tokens}, {width}], got {output}.");
        _k.Embedding[tb.DType](Linear((long)tokens * width), i, tb.View, o, tokens, width, rows, _status.View);
    }

    public void RmsNorm(Tensor x, Tensor weight, Tensor output, float eps, bool unitOffset)
    {
        var xs = T(x).F32;
        var w = T(weight).F32;
        var o = T(output).F32;
        int d = checked((int)weight.ElementCount);
        if (x.Dim(-1) != d || output.ElementCount != x.ElementCount) throw Shapes("RmsNorm", x, weight, output);
        int rows = checked((int)(x.ElementCount / d));
        if (rows == 0) return;
        _k.RmsNorm(WideRows(rows, d), xs, w, o, d, eps, unitOffset ? 1 : 0);
    }

    public void AddRmsNorm(Tensor residual, Tensor delta, Tensor weight, Tensor output, float eps, bool unitOffset)
    {
        var r = T(residual).F32;
        var dl = T(delta).F32;
        var w = T(weight).F32;
        var o = T(output).F32;
        int d = checked((int)weight.ElementCount);
        if (residual.Dim(-1) != d || output.ElementCount != residual.ElementCount || delta.ElementCount != residual.ElementCount)
            throw Shapes("AddRmsNorm", residual, delta, weight, output);
        int rows = checked((int)(residual.ElementCount / d));
        if (rows == 0) return;
        _k.AddRmsNorm(WideRows(rows, d), r, dl, w, o, d, eps, unitOffset ? 1 : 0);
    }

    public void ArgMax(Tensor x, Tensor output)
    {
        int n = GreedyArgMax.Check(x, output), rows = checked((int)output.ElementCount);
        if (rows == 0) return;
        var xs = T(x);
        int vector = n % 4 == 0 && xs.Aligned16 ? 1 : 0;
        // A row that one group of ArgMaxGroup threads covers in one round of loads: one group per row. Wider rows go in
        // parts of one round each, then a second launch picks among a row's parts.
        int group = Math.Min(ArgMaxGroup, _acc.MaxNumThreadsPerGroup), parts = (int)Math.Min(MaxArgMaxParts, ((long)n + 16L * group - 1) / (16L * group));
        if (parts <= 1 || !Options.ArgMaxInParts)
        {
            _k.ArgMax(new KernelConfig(rows, _acc.MaxNumThreadsPerGroup), xs.F32, xs.Vec, T(output).F32, n, vector);
            return;
        }
        var partial = _ws.Get<int>(Scratch.ArgMaxParts, 2L * rows * parts);
        var values = partial.SubView(0, (long)rows * parts).Cast<float>();
        var indices = partial.SubView((long)rows * parts, (long)rows * parts);
        _k.ArgMaxParts(new KernelConfig(checked(rows * parts), group), xs.F32, xs.Vec, values, indices, n, parts, vector);
        _k.ArgMaxCombine(new KernelConfig(rows, group), xs.F32, values, indices, T(output).F32, n, parts);
    }

    /// <summary>Threads per group of the arg-max kernels (four 16-byte loads each per round: 16 values a thread).</summary>
    private const int ArgMaxGroup = 256;

    /// <summary>Most parts a row's arg-max is cut into (the combining group's threads take them in turn).</summary>
    private const int MaxArgMaxParts = 1024;

    public void Add(Tensor a, Tensor b, Tensor output)
    {
        if (a.ElementCount != b.ElementCount || a.ElementCount != output.ElementCount) throw Shapes("Add", a, b, output);
        int n = checked((int)a.ElementCount);
        _k.Add(Linear(n), T(a).F32, T(b).F32, T(output).F32, n);
    }

    public void SiluMul(Tensor gate, Tensor up, Tensor output)
    {
        if (gate.ElementCount != up.ElementCount || gate.ElementCount != output.ElementCount) throw Shapes("SiluMul", gate, up, output);
        int n = checked((int)gate.ElementCount);
        _k.SiluMul(Linear(n), T(gate).F32, T(up).F32, T(output).F32, n);
    }

    public void SigmoidMul(Tensor x, Tensor gate, Tensor output)
    {
        if (x.ElementCount != gate.ElementCount || x.ElementCount != output.ElementCount) throw Shapes("SigmoidMul", x, gate, output);
        int n = checked((int)x.ElementCount);
        _k.SigmoidMul(Linear(n), T(x).F32, T(gate).F32, T(output).F32, n);
    }

    public void SigmoidScaleAdd(Tensor output, Tensor x, Tensor gateLogit)
    {
        int tokens = checked((int)gateLogit.ElementCount);
        if (x.ElementCount != output.ElementCount || x.Rows != tokens) throw Shapes("SigmoidScaleAdd", output, x, gateLogit);
        int n = checked((int)x.ElementCount);
        if (n == 0) return;
        _k.SigmoidScaleAdd(Linear(n), T(output).F32, T(x).F32, T(gateLogit).F32, n, n / tokens);
    }

    /// <summary>Makes the accelerator's context current on the calling thread (CUDA binds contexts per thread).</summary>
    private void Enter()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _acc.Bind();
    }

    private CudaTensor T(Tensor t)
    {
        Enter();
        return t is CudaTensor c && c.Backend == this ? c : throw new ArgumentException($"{t} belongs to another backend.");
    }

    private void CopyOut<TElement>(ArrayView<TElement> view, Span<TElement> destination) where TElement : unmanaged
    {
        if (destination.Length < view.Length) throw new ArgumentException($"The destination holds {destination.Length} values; the tensor has {view.Length}.");
        if (view.Length > 0) view.CopyToCPU(ref destination[0], view.Length);
        _acc.Synchronize();
        _staging.Reset();
        CheckStatus();
    }

    private void CheckStatus()
    {
        var flags = new int[Status.Count];
        _status.View.CopyToCPU(flags);
        CheckStatus(flags);
    }

    /// <summary>Throws for the flags the kernels raised (read back after the stream went idle), clearing them on the device.</summary>
    private void CheckStatus(ReadOnlySpan<int> flags)
    {
        bool raised = false;
        foreach (int f in flags) raised |= f != 0;
        if (!raised) return;
        _status.MemSetToZero();
        _acc.Synchronize();
        var what = new List<string>();
        if (flags[Status.BadTokenId] != 0) what.Add("a token id outside the embedding table");
        if (flags[Status.BadCacheSlot] != 0) what.Add("a KV-cache slot outside the cache");
        if (flags[Status.BadExpertId] != 0) what.Add("an expert id outside the expert set");
        if (flags[Status.BadStateSlot] != 0) what.Add("a linear-attention state slot outside the state pool");
        throw new InvalidOperationException($"A kernel met {string.Join(" and ", what)}; the affected outputs are NaN or unwritten.");
    }

    /// <summary>A grid-stride launch over n elements.</summary>
    private KernelConfig Linear(long n)
    {
        int group = _acc is CudaAccelerator ? 256 : _acc.MaxNumThreadsPerGroup;
        long groups = Math.Clamp((n + group - 1) / group, 1, _acc is CudaAccelerator ? 65536 : 64);
        return new KernelConfig((int)groups, group);
    }

    /// <summary>One group of <see cref="_group"/> threads per row, with <paramref name="sharedFloats"/> floats of dynamic shared memory.</summary>
    private KernelConfig Rows(long rows, int sharedFloats) =>
        new((int)rows, _group, SharedMemoryConfig.RequestDynamic<float>(Math.Max(1, sharedFloats)));

    private int Warps(int group) => group / _acc.WarpSize;

    /// <summary>
    /// One group per row of <paramref name="width"/> values, wide enough that each thread takes at most two: a row kernel
    /// walks its row in dependent steps, so a decode step's single 2048-wide row in 128 threads spent 16 memory latencies.
    /// Shared: one float per warp.
    /// </summary>
    private KernelConfig WideRows(long rows, int width)
    {
        int warp = _acc.WarpSize;
        int group = Math.Clamp((width / 2 + warp - 1) / warp * warp, _group, _acc.MaxNumThreadsPerGroup);
        return new((int)rows, group, SharedMemoryConfig.RequestDynamic<float>(group / warp));
    }

    private DeviceBatch Batch(SequenceBatch batch)
    {
        if (batch.DeviceState is DeviceBatch d && d.Owner == this && !d.IsDisposed) return d;
        d = new DeviceBatch(this, _pool, _staging, batch);
        batch.DeviceState = d;
        _batches.Enqueue(d);
        if (_batches.Count > RecentBatches) _batches.Dequeue().Dispose();
        return d;
    }

    /// <summary>
    /// Every op, copy and cuBLAS call goes to the accelerator's default stream; ILGPU's is the legacy NULL stream, which
    /// cannot be captured into a graph, so it becomes a stream of our own (blocking, so ordered with the NULL stream),
    /// through the property's protected setter. Null, and no step graphs, when this ILGPU version has no such setter.
    /// </summary>
    private static CudaStream? CapturableStream(CudaAccelerator acc)
    {
        var setter = typeof(Accelerator).GetProperty(nameof(Accelerator.DefaultStream))?.GetSetMethod(nonPublic: true);
        if (setter is null) return null;
        var stream = acc.CreateStream(StreamFlags.CU_STREAM_DEFAULT);
        setter.Invoke(acc, [stream]);
        return stream;
    }

    private static Context CreateContext(bool cuda) =>
        Context.Create(b => (cuda ? b.Cuda() : b).CPU().EnableAlgorithms().Optimize(OptimizationLevel.O2));

    private static bool ProbeCuda()
    {
        try
        {
            using var context = Context.Create(b => b.Cuda());
            return context.GetCudaDevices().Count > 0;
        }
        catch (Exception)
        {
            return false;
        }
    }

    private static ArgumentException Shapes(string op, params Tensor[] ts) =>
        new($"{op}: incompatible shapes {string.Join(", ", ts.Select(t => t.ToString()))}.");
}
