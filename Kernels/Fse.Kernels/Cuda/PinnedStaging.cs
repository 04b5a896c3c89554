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
/// <para>A recording instance belongs to one step graph: its area is fixed, nothing is synchronised, and every upload
/// must say what it holds (<see cref="StagedInput"/>); the graph's copies read these regions at every replay, so a
/// replay rewrites them (<see cref="Region"/>) with the new step's values instead of uploading.</para>
/// </summary>
internal sealed class PinnedStaging : IDisposable
{
    /// <summary>Uploads larger than this go through a synchronous copy instead of growing the pinned area.</summary>
    public const long LargestStaged = 64L << 20;

    private readonly Accelerator _acc;
    private readonly List<(long Offset, int Bytes, StagedInput What)>? _record;
    private PageLockedArray1D<byte>? _area;
    private long _used;

    public PinnedStaging(Accelerator accelerator) => _acc = accelerator;

    /// <summary>A recording instance with a fixed area of <paramref name="bytes"/> bytes.</summary>
    public PinnedStaging(Accelerator accelerator, long bytes)
    {
        _acc = accelerator;
        _area = _acc.AllocatePageLocked1D<byte>(bytes);
        _record = [];
    }

    /// <summary>The uploads recorded, in order (recording instances only).</summary>
    public IReadOnlyList<(long Offset, int Bytes, StagedInput What)> Recorded => _record ?? [];

    /// <summary>The bytes of a recorded region, to rewrite before a replay.</summary>
    public Span<byte> Region(long offset, int bytes) => _area!.Span.Slice((int)offset, bytes);

    public void Upload<T>(ArrayView<T> target, ReadOnlySpan<T> data, StagedInput? what = null) where T : unmanaged
    {
        if (data.Length == 0) return;
        var bytes = MemoryMarshal.AsBytes(data);
        if (_record is not null)
        {
            long end = _used + ((bytes.Length + 255) & ~255L);
            if (what is not { } tag || end > _area!.Length)
                throw new StepCaptureException(what is null ? "an upload whose contents a replay could not reproduce" : "more uploads than the graph's staging area holds");
            _record.Add((_used, bytes.Length, tag));
        }
        else if (bytes.Length > LargestStaged)
        {
            target.SubView(0, data.Length).CopyFromCPU(ref Unsafe.AsRef(in data[0]), data.Length);
            return;
        }
        long size = (bytes.Length + 255) & ~255L;
        if (_area is null || _used + size > _area.Length)
        {
            // Every queued copy has read its region once the stream is idle.
            _acc.Synchronize();
            _used = 0;
            if (_area is null || size > _area.Length)
            {
                long grown = Math.Max(size, Math.Max(1L << 20, (_area?.Length ?? 0) * 2));
                _area?.Dispose();
                _area = _acc.AllocatePageLocked1D<byte>(grown);
            }
        }
        var region = _area.Span.Slice((int)_used, bytes.Length);
        bytes.CopyTo(region);
        target.SubView(0, data.Length).CopyFromCPUUnsafeAsync(_acc.DefaultStream, ref Unsafe.As<byte, T>(ref region[0]), data.Length);
        _used += size;
    }

    /// <summary>Frees every region: the caller has just synchronised the stream. A recording instance keeps its regions.</summary>
    public void Reset()
    {
        if (_record is null) _used = 0;
    }

    public void Dispose()
    {
        _area?.Dispose();
        _area = null;
    }
}
