using ILGPU;
using ILGPU.Runtime;

namespace Fse.Kernels.Cuda;

/// <summary>
/// Device buffers freed by tensors and batch tables, kept by size class and handed to the next allocation of that
/// class. Freeing device memory synchronises the device and allocating it costs far more than a launch, so without
/// the pool every decode step's activations would stall the host on the GPU. Reuse is safe because every op runs on
/// one stream in order: a buffer returned after its last op was queued can only back ops queued later.
/// </summary>
internal sealed class BufferPool(Accelerator acc) : IDisposable
{
    /// <summary>Buffers above this size are allocated and freed directly (weights, big KV caches).</summary>
    public const long LargestPooled = 256L << 20;

    /// <summary>At most this many bytes stay pooled; a buffer returned beyond it is freed.</summary>
    public const long Capacity = 1L << 30;

    private readonly Dictionary<long, Stack<MemoryBuffer1D<byte, Stride1D.Dense>>> _free = [];
    private readonly HashSet<MemoryBuffer1D<byte, Stride1D.Dense>> _graphOwned = [];
    private readonly object _gate = new();
    private Arena? _capture;
    private bool _disposed;

    /// <summary>
    /// The buffers of one step graph: every buffer rented while it records, reused only among that step's own ops (in
    /// recorded order, as on the stream) and never handed to anyone else, since the graph writes them at every replay.
    /// </summary>
    public sealed class Arena
    {
        internal readonly List<MemoryBuffer1D<byte, Stride1D.Dense>> Owned = [];
        internal readonly Dictionary<long, Stack<MemoryBuffer1D<byte, Stride1D.Dense>>> Free = [];

        public long Bytes => Owned.Sum(b => b.Length);
    }

    /// <summary>Serves rentals from <paramref name="arena"/> until <see cref="EndCapture"/>.</summary>
    public void BeginCapture(Arena arena)
    {
        lock (_gate) _capture = arena;
    }

    public void EndCapture()
    {
        lock (_gate) _capture = null;
    }

    /// <summary>Frees a graph's buffers (the graph is gone, so nothing reads them any more).</summary>
    public void Release(Arena arena)
    {
        lock (_gate)
            foreach (var b in arena.Owned)
            {
                _graphOwned.Remove(b);
                b.Dispose();
            }
        arena.Owned.Clear();
        arena.Free.Clear();
    }

    /// <summary>Bytes held by free pooled buffers.</summary>
    public long PooledBytes { get; private set; }

    /// <summary>Allocations served from the pool (for tests and diagnostics).</summary>
    public long Reused { get; private set; }

    /// <summary>A buffer of at least <paramref name="bytes"/> bytes (its size class), pooled or new.</summary>
    public MemoryBuffer1D<byte, Stride1D.Dense> Rent(long bytes)
    {
        long size = SizeClass(bytes);
        lock (_gate)
            if (_capture is { } arena)
            {
                if (arena.Free.TryGetValue(size, out var mine) && mine.Count > 0) return mine.Pop();
                var fresh = acc.Allocate1D<byte>(size);
                arena.Owned.Add(fresh);
                _graphOwned.Add(fresh);
                return fresh;
            }
        if (size <= LargestPooled)
            lock (_gate)
                if (_free.TryGetValue(size, out var stack) && stack.Count > 0)
                {
                    PooledBytes -= size;
                    Reused++;
                    return stack.Pop();
                }
        return acc.Allocate1D<byte>(size);
    }

    /// <summary>A buffer of exactly <paramref name="bytes"/> bytes, never from the pool (weights: no size-class slack).</summary>
    public MemoryBuffer1D<byte, Stride1D.Dense> Exact(long bytes) => acc.Allocate1D<byte>(bytes);

    /// <summary>Takes a buffer back for reuse, or frees it when it is too large, the pool is full or disposed.</summary>
    public void Return(MemoryBuffer1D<byte, Stride1D.Dense> buffer)
    {
        // A graph's arena buffer freed with its graph (a recording that failed after its ops rented it) is gone: never pool it.
        if (buffer.IsDisposed) return;
        long size = buffer.Length;
        lock (_gate)
        {
            if (_graphOwned.Contains(buffer))
            {
                // Back to its graph's arena while that graph records; afterwards the graph keeps it.
                if (_capture is { } arena && arena.Owned.Contains(buffer))
                {
                    if (!arena.Free.TryGetValue(size, out var mine)) arena.Free[size] = mine = new();
                    mine.Push(buffer);
                }
                return;
            }
            if (!_disposed && size <= LargestPooled && size == SizeClass(size) && PooledBytes + size <= Capacity)
            {
                if (!_free.TryGetValue(size, out var stack)) _free[size] = stack = new();
                stack.Push(buffer);
                PooledBytes += size;
                return;
            }
        }
        buffer.Dispose();
    }

    /// <summary>
    /// Sizes rounded up to 256 bytes, then to one of 8 steps per power of two (at most 12.5% slack), so buffers of
    /// nearby sizes share a class.
    /// </summary>
    public static long SizeClass(long bytes)
    {
        long b = Math.Max(256, (bytes + 255) & ~255L);
        if (b <= 4096) return b;
        int top = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)b);
        long step = 1L << (top - 3);
        return (b + step - 1) & ~(step - 1);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var b in _graphOwned) b.Dispose();
            _graphOwned.Clear();
            foreach (var stack in _free.Values)
                while (stack.Count > 0) stack.Pop().Dispose();
            _free.Clear();
            PooledBytes = 0;
        }
    }
}
