namespace Fse.Kernels.Cuda;

/// <summary>
/// A CUDA event recorded on a <see cref="CudaBackend"/>'s stream: a device timestamp taken once the ops queued before it
/// have run. One recorded while a step graph records is a node of that graph and is taken again at every replay.
/// </summary>
public sealed class StreamEvent : IDisposable
{
    private readonly CudaDriver _driver;
    private nint _handle;

    internal StreamEvent(CudaDriver driver, nint handle)
    {
        _driver = driver;
        _handle = handle;
    }

    /// <summary>Device time from <paramref name="start"/> to this event, once both have been taken.</summary>
    public TimeSpan MeasureFrom(StreamEvent start) => TimeSpan.FromMilliseconds(_driver.ElapsedMilliseconds(start._handle, _handle));

    public void Dispose()
    {
        if (_handle != 0) _driver.DestroyEvent(_handle);
        _handle = 0;
    }
}
