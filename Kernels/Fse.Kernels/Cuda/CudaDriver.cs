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
