using System.Runtime.InteropServices;

namespace Fse.Kernels.Cuda;

/// <summary>
/// The CUDA driver calls ILGPU does not wrap: stream capture into a graph, instantiation and launch. Resolved at run time
/// from libcuda (the library ILGPU itself uses); null when it cannot be loaded or lacks the entry points.
/// </summary>
internal sealed unsafe class CudaDriver
{
    /// <summary>CU_STREAM_CAPTURE_MODE_RELAXED: allocations on other threads or from the pool stay legal while capturing.</summary>
    private const int CaptureRelaxed = 2;

    private static readonly Lazy<CudaDriver?> Loaded = new(Load);

    private readonly delegate* unmanaged<nint, int, int> _beginCapture;
    private readonly delegate* unmanaged<nint, nint*, int> _endCapture;
    private readonly delegate* unmanaged<nint*, nint, ulong, int> _instantiate;
    private readonly delegate* unmanaged<nint, nint, int> _launch;
    private readonly delegate* unmanaged<nint, int> _execDestroy;
    private readonly delegate* unmanaged<nint, int> _graphDestroy;
    private readonly delegate* unmanaged<nint*, uint, int> _eventCreate;
    private readonly delegate* unmanaged<nint, nint, uint, int> _eventRecord;
    private readonly delegate* unmanaged<float*, nint, nint, int> _eventElapsed;
    private readonly delegate* unmanaged<nint, int> _eventDestroy;
    private readonly delegate* unmanaged<int*, int, nint, int> _funcAttribute;
    private readonly delegate* unmanaged<int*, nint, int, nuint, int> _maxActiveBlocks;

    // CUDA 12.3+: capture dependencies with edge data (programmatic dependent launch inside graphs); null on older drivers.
    private readonly delegate* unmanaged<nint, int*, ulong*, nint*, nint**, EdgeData**, nuint*, int> _captureInfo;
    private readonly delegate* unmanaged<nint, nint*, EdgeData*, nuint, uint, int> _setCaptureDependencies;
    private readonly delegate* unmanaged<nint, int*, int> _nodeType;
    private readonly delegate* unmanaged<nint, KernelNodeParams*, int> _kernelNodeParams;

    /// <summary>CUgraphEdgeData: ports and dependency type of one edge.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct EdgeData
    {
        public byte FromPort, ToPort, Type;
        public byte R0, R1, R2, R3, R4;
    }

    /// <summary>CUDA_KERNEL_NODE_PARAMS_v2, of which only the function is read; padded past the driver's size.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    private struct KernelNodeParams
    {
        public nint Function;
    }

    private const int NodeTypeKernel = 0;
    private const int CaptureActive = 1;
    private const uint SetCaptureDependencies = 1;
    private const byte DependencyProgrammatic = 1;
    private const byte KernelPortProgrammatic = 1;

    private CudaDriver(nint lib)
    {
        _beginCapture = (delegate* unmanaged<nint, int, int>)NativeLibrary.GetExport(lib, "cuStreamBeginCapture_v2");
        _endCapture = (delegate* unmanaged<nint, nint*, int>)NativeLibrary.GetExport(lib, "cuStreamEndCapture");
        _instantiate = (delegate* unmanaged<nint*, nint, ulong, int>)NativeLibrary.GetExport(lib, "cuGraphInstantiateWithFlags");
        _launch = (delegate* unmanaged<nint, nint, int>)NativeLibrary.GetExport(lib, "cuGraphLaunch");
        _execDestroy = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(lib, "cuGraphExecDestroy");
        _graphDestroy = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(lib, "cuGraphDestroy");
        _eventCreate = (delegate* unmanaged<nint*, uint, int>)NativeLibrary.GetExport(lib, "cuEventCreate");
        _eventRecord = (delegate* unmanaged<nint, nint, uint, int>)NativeLibrary.GetExport(lib, "cuEventRecordWithFlags");
        _eventElapsed = (delegate* unmanaged<float*, nint, nint, int>)NativeLibrary.GetExport(lib, "cuEventElapsedTime");
        _eventDestroy = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(lib, "cuEventDestroy_v2");
        _funcAttribute = (delegate* unmanaged<int*, int, nint, int>)NativeLibrary.GetExport(lib, "cuFuncGetAttribute");
        _maxActiveBlocks = (delegate* unmanaged<int*, nint, int, nuint, int>)NativeLibrary.GetExport(lib, "cuOccupancyMaxActiveBlocksPerMultiprocessor");
        if (NativeLibrary.TryGetExport(lib, "cuStreamGetCaptureInfo_v3", out var captureInfo) &&
            NativeLibrary.TryGetExport(lib, "cuStreamUpdateCaptureDependencies_v2", out var setDependencies) &&
            NativeLibrary.TryGetExport(lib, "cuGraphNodeGetType", out var nodeType) &&
            NativeLibrary.TryGetExport(lib, "cuGraphKernelNodeGetParams_v2", out var kernelParams))
        {
            _captureInfo = (delegate* unmanaged<nint, int*, ulong*, nint*, nint**, EdgeData**, nuint*, int>)captureInfo;
            _setCaptureDependencies = (delegate* unmanaged<nint, nint*, EdgeData*, nuint, uint, int>)setDependencies;
            _nodeType = (delegate* unmanaged<nint, int*, int>)nodeType;
            _kernelNodeParams = (delegate* unmanaged<nint, KernelNodeParams*, int>)kernelParams;
        }
    }

    /// <summary>
    /// A new event recorded on <paramref name="stream"/>. While the stream records a graph, <paramref name="external"/>
    /// (CU_EVENT_RECORD_EXTERNAL) makes the record a node of the graph, so every replay records the event again.
    /// </summary>
    public nint RecordEvent(nint stream, bool external)
    {
        nint e;
        Check(_eventCreate(&e, 0), "cuEventCreate");
        Check(_eventRecord(e, stream, external ? 1u : 0u), "cuEventRecordWithFlags");
        return e;
    }

    public double ElapsedMilliseconds(nint start, nint end)
    {
        float ms;
        Check(_eventElapsed(&ms, start, end), "cuEventElapsedTime");
        return ms;
    }

    public void DestroyEvent(nint e) => _eventDestroy(e);

    /// <summary>CUfunction_attribute values read by <see cref="FunctionAttribute"/>.</summary>
    public const int AttributeMaxThreadsPerBlock = 0, AttributeStaticSharedBytes = 1, AttributeLocalBytes = 3, AttributeRegisters = 4;

    /// <summary>An attribute of a loaded kernel (registers per thread, spilled local bytes, …).</summary>
    public int FunctionAttribute(nint function, int attribute)
    {
        int value;
        Check(_funcAttribute(&value, attribute, function), "cuFuncGetAttribute");
        return value;
    }

    /// <summary>Groups of <paramref name="groupSize"/> threads of a kernel one multiprocessor holds at once.</summary>
    public int MaxActiveGroups(nint function, int groupSize, long dynamicSharedBytes)
    {
        int groups;
        Check(_maxActiveBlocks(&groups, function, groupSize, (nuint)dynamicSharedBytes), "cuOccupancyMaxActiveBlocksPerMultiprocessor");
        return groups;
    }

    public static CudaDriver? Instance => Loaded.Value;

    public void BeginCapture(nint stream) => Check(_beginCapture(stream, CaptureRelaxed), "cuStreamBeginCapture");

    /// <summary>Ends the capture; the graph, or 0 when the capture was invalidated (the error code is thrown then).</summary>
    public nint EndCapture(nint stream)
    {
        nint graph;
        Check(_endCapture(stream, &graph), "cuStreamEndCapture");
        return graph;
    }

    /// <summary>Ends a capture that failed, discarding whatever was recorded; never throws.</summary>
    public void AbandonCapture(nint stream)
    {
        nint graph;
        if (_endCapture(stream, &graph) == 0 && graph != 0) _graphDestroy(graph);
    }

    /// <summary>Whether the driver can give captured edges data (CUDA 12.3 and newer): programmatic edges in step graphs.</summary>
    public bool HasProgrammaticEdges => _captureInfo != null;

    /// <summary>
    /// While <paramref name="stream"/> records: when the node the next launch will depend on is a single plain edge from
    /// a kernel whose function is in <paramref name="functions"/>, makes that edge programmatic (the next kernel may
    /// launch once every group of that one has triggered, and waits for its completion in <c>griddepcontrol.wait</c>).
    /// Edges from copies or other libraries' kernels stay plain. Returns whether the edge was changed.
    /// </summary>
    public bool MakeNextEdgeProgrammatic(nint stream, IReadOnlySet<nint> functions)
    {
        if (!HasProgrammaticEdges) return false;
        int status;
        ulong id;
        nint graph;
        nint* dependencies;
        EdgeData* data;
        nuint n;
        Check(_captureInfo(stream, &status, &id, &graph, &dependencies, &data, &n), "cuStreamGetCaptureInfo_v3");
        if (status != CaptureActive || n != 1) return false;
        if (data != null && (data[0].Type != 0 || data[0].FromPort != 0 || data[0].ToPort != 0)) return false;
        nint node = dependencies[0];
        int type;
        Check(_nodeType(node, &type), "cuGraphNodeGetType");
        if (type != NodeTypeKernel) return false;
        KernelNodeParams p;
        Check(_kernelNodeParams(node, &p), "cuGraphKernelNodeGetParams_v2");
        if (!functions.Contains(p.Function)) return false;
        var programmatic = new EdgeData { FromPort = KernelPortProgrammatic, Type = DependencyProgrammatic };
        Check(_setCaptureDependencies(stream, &node, &programmatic, 1, SetCaptureDependencies), "cuStreamUpdateCaptureDependencies_v2");
        return true;
    }

    public nint Instantiate(nint graph)
    {
        nint exec;
        Check(_instantiate(&exec, graph, 0), "cuGraphInstantiateWithFlags");
        return exec;
    }

    public void Launch(nint exec, nint stream) => Check(_launch(exec, stream), "cuGraphLaunch");

    public void Destroy(nint exec, nint graph)
    {
        if (exec != 0) _execDestroy(exec);
        if (graph != 0) _graphDestroy(graph);
    }

    private static void Check(int status, string call)
    {
        if (status != 0) throw new InvalidOperationException($"{call} failed with CUDA error {status}.");
    }

    private static CudaDriver? Load()
    {
        foreach (var name in new[] { "libcuda.so.1", "libcuda.so", "nvcuda.dll" })
        {
            if (!NativeLibrary.TryLoad(name, out var lib)) continue;
            try
            {
                return new CudaDriver(lib);
            }
            catch (EntryPointNotFoundException)
            {
                return null;
            }
        }
        return null;
    }
}
