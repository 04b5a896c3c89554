using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace Fse.Kernels.Cuda;

/// <summary>
/// Page-locked host memory that small per-step uploads (token ids, batch tables, rotary tables) pass through, so their
/// copies are queued on the stream instead of waiting for it: ILGPU's CopyFromCPU synchronises the stream, which
/// drained the pipeline several times per decode step. Regions are handed out in order and reused only after the
/// stream has been synchronised (<see cref="Reset"/>); when the area runs out mid-step it synchronises itself.
/// </summary>
internal sealed class PinnedStaging(Accelerator acc) : IDisposable
{
    /// <summary>Uploads larger than this go through a synchronous copy instead of growing the pinned area.</summary>
    public const long LargestStaged = 64L << 20;

    private PageLockedArray1D<byte>? _area;
    private long _used;

    public void Upload<T>(ArrayView<T> target, ReadOnlySpan<T> data) where T : unmanaged
    {
        if (data.Length == 0) return;
        var bytes = MemoryMarshal.AsBytes(data);
        if (bytes.Length > LargestStaged)
        {
            target.SubView(0, data.Length).CopyFromCPU(ref Unsafe.AsRef(in data[0]), data.Length);
            return;
        }
        long size = (bytes.Length + 255) & ~255L;
        if (_area is null || _used + size > _area.Length)
        {
            // Every queued copy has read its region once the stream is idle.
            acc.Synchronize();
            _used = 0;
            if (_area is null || size > _area.Length)
            {
                long grown = Math.Max(size, Math.Max(1L << 20, (_area?.Length ?? 0) * 2));
                _area?.Dispose();
                _area = acc.AllocatePageLocked1D<byte>(grown);
            }
        }
        var region = _area.Span.Slice((int)_used, bytes.Length);
        bytes.CopyTo(region);
        target.SubView(0, data.Length).CopyFromCPUUnsafeAsync(acc.DefaultStream, ref Unsafe.As<byte, T>(ref region[0]), data.Length);
        _used += size;
    }

    /// <summary>Frees every region: the caller has just synchronised the stream.</summary>
    public void Reset() => _used = 0;

    public void Dispose()
    {
        _area?.Dispose();
        _area = null;
    }
}
