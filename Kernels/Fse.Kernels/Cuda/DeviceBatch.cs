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
        var all = Tables(b);
        _tables = pool.Rent((long)Math.Max(1, all.Length) * sizeof(int));
        var v = ((ArrayView<byte>)_tables.View).Cast<int>();
        staging.Upload(v.SubView(0, all.Length), all, StagedInput.BatchTables);
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

    /// <summary>The batch's tables as one upload: SeqStart, Positions, BlockTable, SlotMapping, StateSlot, Reset, SeqOf.</summary>
    public static int[] Tables(SequenceBatch b)
    {
        var seqOf = new int[b.TokenCount];
        for (int q = 0; q < b.SequenceCount; q++)
            for (int i = b.SeqStart[q]; i < b.SeqStart[q + 1]; i++) seqOf[i] = q;
        int[][] parts = [b.SeqStart, b.Positions, b.BlockTable, b.SlotMapping, b.StateSlot, [.. b.ResetState.Select(r => r ? 1 : 0)], seqOf];
        return parts.SelectMany(p => p).ToArray();
    }

    /// <summary>cos [T, rot/2] then sin [T, rot/2] at the batch's positions, angles as HF computes them (float32 inverse frequencies times the position).</summary>
    public static float[] RopeTable(SequenceBatch b, int rotaryDim, float theta)
    {
        int half = rotaryDim / 2, t = b.TokenCount;
        var invFreq = new float[half];
        CpuBackend.RopeFrequencies(theta, rotaryDim, invFreq);
        var table = new float[2 * t * half];
        for (int i = 0; i < t; i++)
        {
            float pos = b.Positions[i];
            for (int j = 0; j < half; j++)
            {
                float angle = invFreq[j] * pos;
                table[i * half + j] = MathF.Cos(angle);
                table[(t + i) * half + j] = MathF.Sin(angle);
            }
        }
        return table;
    }

    /// <summary>Per sequence, 1 when its whole context (positions 0 … n−1, n ≥ <paramref name="minTokens"/>) is in the batch, with those spans.</summary>
    public static (int[] Flags, List<(int First, int Count)> Spans) DenseFlags(SequenceBatch b, int minTokens)
    {
        var spans = new List<(int, int)>();
        var flags = new int[b.SequenceCount];
        for (int s = 0; s < flags.Length; s++)
        {
            int first = b.SeqStart[s], count = b.SeqStart[s + 1] - first;
            if (count < Math.Max(1, minTokens)) continue;
            bool whole = true;
            for (int i = 0; i < count && whole; i++) whole = b.Positions[first + i] == i;
            if (!whole) continue;
            flags[s] = 1;
            spans.Add((first, count));
        }
        return (flags, spans);
    }

    /// <summary>The values of a staged input of this kind for batch <paramref name="b"/> (a step graph's replay writes them).</summary>
    public static ReadOnlySpan<byte> Values(StagedInput what, SequenceBatch b) => what.Kind switch
    {
        StagedInputKind.BatchTables => System.Runtime.InteropServices.MemoryMarshal.AsBytes<int>(Tables(b)),
        StagedInputKind.Rope => System.Runtime.InteropServices.MemoryMarshal.AsBytes<float>(RopeTable(b, what.RotaryDim, what.Theta)),
        StagedInputKind.DenseFlags => System.Runtime.InteropServices.MemoryMarshal.AsBytes<int>(DenseFlags(b, what.MinTokens).Flags),
        _ => throw new ArgumentOutOfRangeException(nameof(what), $"{what.Kind} is not a batch table."),
    };

    public CudaBackend Owner { get; }
    public BatchView View { get; }
    public bool IsDisposed { get; private set; }

    /// <summary>cos and sin [T, rot/2] each (<see cref="RopeTable"/>), as the CPU backend computes them.</summary>
    public (ArrayView<float> Cos, ArrayView<float> Sin) Rope(int rotaryDim, float theta)
    {
        int half = rotaryDim / 2, t = _batch.TokenCount;
        if (!_rope.TryGetValue((rotaryDim, theta), out var buffer))
        {
            var table = RopeTable(_batch, rotaryDim, theta);
            buffer = _pool.Rent((long)Math.Max(1, table.Length) * sizeof(float));
            _staging.Upload(((ArrayView<byte>)buffer.View).Cast<float>().SubView(0, table.Length), table, StagedInput.Rope(rotaryDim, theta));
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
        var (flags, spans) = DenseFlags(_batch, minTokens);
        ArrayView<int>? view = null;
        if (spans.Count > 0)
        {
            _denseFlags ??= _pool.Rent((long)Math.Max(1, flags.Length) * sizeof(int));
            var v = ((ArrayView<byte>)_denseFlags.View).Cast<int>().SubView(0, flags.Length);
            _staging.Upload(v, flags, StagedInput.DenseFlags(minTokens));
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
