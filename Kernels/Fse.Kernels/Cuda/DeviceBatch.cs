using Fse.Kernels.Cpu;
using Fse.Kernels.Cuda.Device;
using ILGPU;
using ILGPU.Runtime;

namespace Fse.Kernels.Cuda;

/// <summary>
/// A <see cref="SequenceBatch"/>'s tables on the device, uploaded once per step in one asynchronous copy and kept in
/// <see cref="SequenceBatch.DeviceState"/>; rotary cos/sin tables are added per (rotary dims, theta) on first use.
/// </summary>
internal sealed class DeviceBatch : IDisposable
{
    private readonly SequenceBatch _batch;
    private readonly BufferPool _pool;
    private readonly PinnedStaging _staging;
    private readonly MemoryBuffer1D<byte, Stride1D.Dense> _tables;
    private readonly Dictionary<(int RotaryDim, float Theta), MemoryBuffer1D<byte, Stride1D.Dense>> _rope = [];
    private MemoryBuffer1D<byte, Stride1D.Dense>? _denseFlags;
    private (int MinTokens, List<(int First, int Count)> Spans, ArrayView<int>? Flags)? _dense;

    public DeviceBatch(CudaBackend owner, BufferPool pool, PinnedStaging staging, SequenceBatch b)
    {
        Owner = owner;
        _pool = pool;
        _staging = staging;
        _batch = b;
        int s = b.SequenceCount, t = b.TokenCount;
        var seqOf = new int[t];
        for (int q = 0; q < s; q++)
            for (int i = b.SeqStart[q]; i < b.SeqStart[q + 1]; i++) seqOf[i] = q;
        int[][] parts = [b.SeqStart, b.Positions, b.BlockTable, b.SlotMapping, b.StateSlot, [.. b.ResetState.Select(r => r ? 1 : 0)], seqOf];
        var all = parts.SelectMany(p => p).ToArray();
        _tables = pool.Rent((long)Math.Max(1, all.Length) * sizeof(int));
        var v = ((ArrayView<byte>)_tables.View).Cast<int>();
        staging.Upload(v.SubView(0, all.Length), all);
        long o = 0;
        ArrayView<int> Next(int n)
        {
            var part = v.SubView(o, n);
            o += n;
            return part;
        }
        View = new BatchView
        {
            SeqStart = Next(s + 1), Positions = Next(t), BlockTable = Next(b.BlockTable.Length), SlotMapping = Next(t),
            StateSlot = Next(s), Reset = Next(s), SeqOf = Next(t),
            Sequences = s, Tokens = t, MaxBlocksPerSeq = b.MaxBlocksPerSeq, BlockSize = b.BlockSize,
        };
    }

    public CudaBackend Owner { get; }
    public BatchView View { get; }
    public bool IsDisposed { get; private set; }

    /// <summary>cos and sin [T, rot/2] each, angles as HF computes them (float32 inverse frequencies times the position), as the CPU backend does.</summary>
    public (ArrayView<float> Cos, ArrayView<float> Sin) Rope(int rotaryDim, float theta)
    {
        int half = rotaryDim / 2, t = _batch.TokenCount;
        if (!_rope.TryGetValue((rotaryDim, theta), out var buffer))
        {
            var invFreq = new float[half];
            CpuBackend.RopeFrequencies(theta, rotaryDim, invFreq);
            var table = new float[2 * t * half];
            for (int i = 0; i < t; i++)
            {
                float pos = _batch.Positions[i];
                for (int j = 0; j < half; j++)
                {
                    float angle = invFreq[j] * pos;
                    table[i * half + j] = MathF.Cos(angle);
                    table[(t + i) * half + j] = MathF.Sin(angle);
                }
            }
            buffer = _pool.Rent((long)Math.Max(1, table.Length) * sizeof(float));
            _staging.Upload(((ArrayView<byte>)buffer.View).Cast<float>().SubView(0, table.Length), table);
            _rope[(rotaryDim, theta)] = buffer;
        }
        var view = ((ArrayView<byte>)buffer.View).Cast<float>();
        return (view.SubView(0, (long)t * half), view.SubView((long)t * half, (long)t * half));
    }

    /// <summary>
    /// Sequences whose whole context is in this step (positions 0, 1, …, n−1) with at least <paramref name="minTokens"/>
    /// tokens: the dense prefill attention path's, as (first token, token count) and a per-sequence flag on the device
    /// (null when there are none).
    /// </summary>
    public (List<(int First, int Count)> Spans, ArrayView<int>? Flags) DenseSequences(int minTokens)
    {
        if (_dense is { } d && d.MinTokens == minTokens) return (d.Spans, d.Flags);
        var spans = new List<(int, int)>();
        var flags = new int[_batch.SequenceCount];
        for (int s = 0; s < flags.Length; s++)
        {
            int first = _batch.SeqStart[s], count = _batch.SeqStart[s + 1] - first;
            if (count < Math.Max(1, minTokens)) continue;
            bool whole = true;
            for (int i = 0; i < count && whole; i++) whole = _batch.Positions[first + i] == i;
            if (!whole) continue;
            flags[s] = 1;
            spans.Add((first, count));
        }
        ArrayView<int>? view = null;
        if (spans.Count > 0)
        {
            _denseFlags ??= _pool.Rent((long)Math.Max(1, flags.Length) * sizeof(int));
            var v = ((ArrayView<byte>)_denseFlags.View).Cast<int>().SubView(0, flags.Length);
            _staging.Upload(v, flags);
            view = v;
        }
        _dense = (minTokens, spans, view);
        return (spans, view);
    }

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Owner.Release(_tables);
        foreach (var b in _rope.Values) Owner.Release(b);
        if (_denseFlags is not null) Owner.Release(_denseFlags);
    }
}
