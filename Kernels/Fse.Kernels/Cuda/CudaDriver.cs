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

    // CUDA 12.3+: edges with data (programmatic dependent launch inside graphs); null on older drivers.
    private readonly delegate* unmanaged<nint, nint*, nint*, EdgeData*, nuint*, int> _getEdges;
    private readonly delegate* unmanaged<nint, nint*, nint*, EdgeData*, nuint, int> _removeDependencies;
    private readonly delegate* unmanaged<nint, nint*, nint*, nuint, int> _removePlainDependencies;
    private readonly delegate* unmanaged<nint, nint*, nint*, EdgeData*, nuint, int> _addDependencies;
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
    private const int NotSupported = 801;
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
        if (NativeLibrary.TryGetExport(lib, "cuGraphGetEdges_v2", out var getEdges) &&
            NativeLibrary.TryGetExport(lib, "cuGraphRemoveDependencies_v2", out var remove) &&
            NativeLibrary.TryGetExport(lib, "cuGraphAddDependencies_v2", out var add) &&
            NativeLibrary.TryGetExport(lib, "cuGraphNodeGetType", out var nodeType) &&
            NativeLibrary.TryGetExport(lib, "cuGraphKernelNodeGetParams_v2", out var kernelParams))
        {
            _getEdges = (delegate* unmanaged<nint, nint*, nint*, EdgeData*, nuint*, int>)getEdges;
            _removeDependencies = (delegate* unmanaged<nint, nint*, nint*, EdgeData*, nuint, int>)remove;
            _removePlainDependencies = (delegate* unmanaged<nint, nint*, nint*, nuint, int>)NativeLibrary.GetExport(lib, "cuGraphRemoveDependencies");
            _addDependencies = (delegate* unmanaged<nint, nint*, nint*, EdgeData*, nuint, int>)add;
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

    /// <summary>Whether the driver can make graph edges programmatic (CUDA 12.3 and newer).</summary>
    public bool HasProgrammaticEdges => _getEdges != null;

    /// <summary>
    /// Makes every plain edge of <paramref name="graph"/> between two kernel nodes whose functions are in
    /// <paramref name="functions"/> programmatic (the downstream kernel may launch once every group of the upstream one
    /// has triggered, and waits for its completion in <c>griddepcontrol.wait</c>); other edges (copies, cuBLAS kernels)
    /// stay as recorded. Returns the number of edges changed; at the first edge the driver refuses (left or put back as
    /// it was) it stops and says why in <paramref name="refusal"/>.
    /// </summary>
    public int MakeEdgesProgrammatic(nint graph, IReadOnlySet<nint> functions, out string? refusal)
    {
        refusal = null;
        if (!HasProgrammaticEdges) throw new NotSupportedException("The CUDA driver has no graph edge data (needs CUDA 12.3).");
        nuint n = 0;
        Check(_getEdges(graph, null, null, null, &n), "cuGraphGetEdges_v2");
        if (n == 0) return 0;
        var from = new nint[(int)n];
        var to = new nint[(int)n];
        var data = new EdgeData[(int)n];
        fixed (nint* f = from, t = to)
        fixed (EdgeData* d = data)
            Check(_getEdges(graph, f, t, d, &n), "cuGraphGetEdges_v2");
        var ours = new Dictionary<nint, bool>();
        bool Ours(nint node)
        {
            if (ours.TryGetValue(node, out bool known)) return known;
            int type;
            Check(_nodeType(node, &type), "cuGraphNodeGetType");
            bool result = false;
            if (type == NodeTypeKernel)
            {
                KernelNodeParams p;
                Check(_kernelNodeParams(node, &p), "cuGraphKernelNodeGetParams_v2");
                result = functions.Contains(p.Function);
            }
            return ours[node] = result;
        }
        int changed = 0;
        for (int i = 0; i < (int)n; i++)
        {
            if (data[i].Type != 0 || data[i].FromPort != 0 || data[i].ToPort != 0 || !Ours(from[i]) || !Ours(to[i])) continue;
            nint f = from[i], t = to[i];
            var plain = data[i];
            var programmatic = new EdgeData { FromPort = KernelPortProgrammatic, Type = DependencyProgrammatic };
            int removed = _removeDependencies(graph, &f, &t, &plain, 1);
            // Graphs holding cuBLAS kernels refused the call with edge data (801, not supported); try the plain one too.
            if (removed == NotSupported) removed = _removePlainDependencies(graph, &f, &t, 1);
            if (removed != 0)
            {
                refusal = $"cuGraphRemoveDependencies failed with CUDA error {removed}.";
                break;
            }
            int status = _addDependencies(graph, &f, &t, &programmatic, 1);
            if (status != 0)
            {
                Check(_addDependencies(graph, &f, &t, &plain, 1), "cuGraphAddDependencies_v2 (the plain edge back)");
                refusal = $"cuGraphAddDependencies_v2 (programmatic) failed with CUDA error {status}.";
                break;
            }
            changed++;
        }
        return changed;
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
