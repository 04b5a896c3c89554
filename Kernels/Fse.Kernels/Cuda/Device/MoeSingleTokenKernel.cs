using ILGPU;

namespace Fse.Kernels.Cuda.Device;

/// <summary>
/// The down pass with the weighted combine for one token (a batch-1 decode step), after <see cref="MoeKernels.GateUpDirect{TW}"/>,
/// two ways: <see cref="DownBySlot{TW}"/> (the default: a warp per slot and four columns, each act row read once per
/// four columns; batch-1 steps ~33 µs faster on the H100) and <see cref="Down{TW}"/>, one warp per output column, which
/// loads that column's row of every slot at once (up to 24 128-bit loads per lane in flight) and then the act chunks. The few-token kernel (<see cref="MoeKernels.DownCombineDirect{TW}"/>) loads four
/// slots per round, three waits on memory for Qwen3-Next's 11 slots. H100, in a replayed graph: the expert pass of one
/// token 34.3 → 33.5 µs. (The act rows staged in shared memory per group made it 43.9 µs; gate/up and down as one kernel
/// with a grid barrier, each warp loading its down rows before the barrier, 46.5 µs: both cut the resident warps.)
/// </summary>
public static class MoeSingleTokenKernel
{
    /// <summary>Slots per token the kernel holds in registers (top-k plus shared slots).</summary>
    public const int MaxSlots = 12;

    /// <summary>Chunks (8 weights) of a down row a lane holds: rows of up to 64 chunks (Width ≤ 512).</summary>
    public const int MaxChunks = 64;

    /// <summary>
    /// Grid: ceil(Hidden / warps per group) groups. Its successor launches only once its wait is over: hinting the rows
    /// of the ids the routing wrote, from the gate/up pass's start, made batch-1 steps ~20 µs slower on the H100.
    /// </summary>
    [TriggerAfterWait]
    public static void Down<TW>(MoeArgs a) where TW : struct, IHalfWeights
    {
        int lane = Warp.LaneIdx, c = Grid.IdxX * (Group.DimX / Warp.WarpSize) + Warp.WarpIdx;
        if (c >= a.Hidden) return;
        int myId = lane < a.PerToken ? a.Ids[lane] : -1;
        float myWeight = lane < a.PerToken ? a.Weights[lane] : 0f;
        var rows = DownColumn.Load(a, myId, c);
        float o = rows.Combine<TW>(a, myId, myWeight);
        if (lane == 0) a.Out[c] = o;
    }

    /// <summary>Output columns a group of <see cref="DownBySlot{TW}"/> computes.</summary>
    public const int SlotColumns = 4;

    /// <summary>
    /// The same down pass with the work cut by slot: a group per <see cref="SlotColumns"/> output columns and, in it, a
    /// warp per slot (warps loop over the slots when the group has fewer), which loads its slot's rows of the group's
    /// columns at once (eight 128-bit loads a lane) and its act row once for all four: a lane reads its act chunks once
    /// instead of once per slot and column (the act reads were about a quarter of <see cref="Down{TW}"/>'s time on the H100).
    /// The weighted per-slot sums meet in shared memory and are added in slot order. Grid: ceil(Hidden / 4) groups.
    /// Shared: PerToken · 4 floats.
    /// </summary>
    [TriggerAfterWait]
    public static void DownBySlot<TW>(MoeArgs a) where TW : struct, IHalfWeights
    {
        int lane = Warp.LaneIdx, warps = Group.DimX / Warp.WarpSize, chunks = a.Width / 8, c0 = Grid.IdxX * SlotColumns;
        int lo = lane < chunks ? lane : 0, hi = lane + 32 < chunks ? lane + 32 : lo;
        var partial = SharedMemory.GetDynamic<float>();
        TW fmt = default;
        for (int j = Warp.WarpIdx; j < a.PerToken; j += warps)
        {
            int e = a.Ids[j];
            float weight = a.Weights[j];
            bool valid = (uint)e < (uint)a.Slots;
            long row = (long)(valid ? e : 0) * a.Hidden;
            long b0 = (row + Column(a, c0)) * chunks, b1 = (row + Column(a, c0 + 1)) * chunks;
            long b2 = (row + Column(a, c0 + 2)) * chunks, b3 = (row + Column(a, c0 + 3)) * chunks;
            var w = a.W2v;
            U4 l0 = w[b0 + lo], h0 = w[b0 + hi], l1 = w[b1 + lo], h1 = w[b1 + hi];
            U4 l2 = w[b2 + lo], h2 = w[b2 + hi], l3 = w[b3 + lo], h3 = w[b3 + hi];
            long at = (long)j * a.Width / 4;
            F8 actLo = F8.Floats(a.Actv, at + 2 * lo), actHi = F8.Floats(a.Actv, at + 2 * hi);
            bool hasLo = lane < chunks, hasHi = lane + 32 < chunks;
            float s0 = Reduce.WarpSum(Dot(fmt, l0, h0, actLo, actHi, hasLo, hasHi));
            float s1 = Reduce.WarpSum(Dot(fmt, l1, h1, actLo, actHi, hasLo, hasHi));
            float s2 = Reduce.WarpSum(Dot(fmt, l2, h2, actLo, actHi, hasLo, hasHi));
            float s3 = Reduce.WarpSum(Dot(fmt, l3, h3, actLo, actHi, hasLo, hasHi));
            // A slot whose id is outside the set adds nothing (its act row was never written: no product with it).
            if (lane == 0)
            {
                partial[j * SlotColumns] = valid ? weight * s0 : 0f;
                partial[j * SlotColumns + 1] = valid ? weight * s1 : 0f;
                partial[j * SlotColumns + 2] = valid ? weight * s2 : 0f;
                partial[j * SlotColumns + 3] = valid ? weight * s3 : 0f;
            }
        }
        Group.Barrier();
        int k = Group.IdxX;
        if (k < SlotColumns && c0 + k < a.Hidden)
        {
            float o = 0f;
            for (int j = 0; j < a.PerToken; j++) o += partial[j * SlotColumns + k];
            a.Out[c0 + k] = o;
        }
    }

    /// <summary>Column <paramref name="c"/>, or the last one for the columns past Hidden of the last group (read, never written).</summary>
    private static int Column(MoeArgs a, int c) => c < a.Hidden ? c : a.Hidden - 1;

    private static float Dot<TW>(TW fmt, U4 lo, U4 hi, F8 actLo, F8 actHi, bool hasLo, bool hasHi) where TW : struct, IHalfWeights =>
        (hasLo ? fmt.Chunk(lo).Dot(actLo) : 0f) + (hasHi ? fmt.Chunk(hi).Dot(actHi) : 0f);
}

/// <summary>
/// One output column's down rows for up to <see cref="MoeSingleTokenKernel.MaxSlots"/> slots, raw: lane l holds chunk l
/// (L) and chunk l + 32 (H) of each slot's row, loaded together and widened only when used. A missing slot or chunk
/// loads a valid address (slot 0's row, chunk 0) and contributes nothing.
/// </summary>
public struct DownColumn
{
    public U4 L0, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11;
    public U4 H0, H1, H2, H3, H4, H5, H6, H7, H8, H9, H10, H11;

    public static DownColumn Load(MoeArgs a, int myId, int c)
    {
        int chunks = a.Width / 8, lane = Warp.LaneIdx;
        int lo = lane < chunks ? lane : 0, hi = lane + 32 < chunks ? lane + 32 : lo;
        long r0 = Row(a, myId, 0, c, chunks), r1 = Row(a, myId, 1, c, chunks), r2 = Row(a, myId, 2, c, chunks);
        long r3 = Row(a, myId, 3, c, chunks), r4 = Row(a, myId, 4, c, chunks), r5 = Row(a, myId, 5, c, chunks);
        long r6 = Row(a, myId, 6, c, chunks), r7 = Row(a, myId, 7, c, chunks), r8 = Row(a, myId, 8, c, chunks);
        long r9 = Row(a, myId, 9, c, chunks), r10 = Row(a, myId, 10, c, chunks), r11 = Row(a, myId, 11, c, chunks);
        var w = a.W2v;
        return new DownColumn
        {
            L0 = w[r0 + lo], L1 = w[r1 + lo], L2 = w[r2 + lo], L3 = w[r3 + lo], L4 = w[r4 + lo], L5 = w[r5 + lo],
            L6 = w[r6 + lo], L7 = w[r7 + lo], L8 = w[r8 + lo], L9 = w[r9 + lo], L10 = w[r10 + lo], L11 = w[r11 + lo],
            H0 = w[r0 + hi], H1 = w[r1 + hi], H2 = w[r2 + hi], H3 = w[r3 + hi], H4 = w[r4 + hi], H5 = w[r5 + hi],
            H6 = w[r6 + hi], H7 = w[r7 + hi], H8 = w[r8 + hi], H9 = w[r9 + hi], H10 = w[r10 + hi], H11 = w[r11 + hi],
        };
    }

    /// <summary>Row c of slot j's expert in chunks; slot 0's row when slot j is missing or its id is outside the set.</summary>
    private static long Row(MoeArgs a, int myId, int j, int c, int chunks)
    {
        int e = Warp.Shuffle(myId, j);
        int valid = j < a.PerToken && (uint)e < (uint)a.Slots ? e : 0;
        return ((long)valid * a.Hidden + c) * chunks;
    }

    /// <summary>Σ_j weight_j · (row_j · act_j) over the warp; every lane gets it.</summary>
    public readonly float Combine<TW>(MoeArgs a, int myId, float myWeight) where TW : struct, IHalfWeights
    {
        float o = Term<TW>(a, myId, myWeight, 0, L0, H0) + Term<TW>(a, myId, myWeight, 1, L1, H1)
            + Term<TW>(a, myId, myWeight, 2, L2, H2) + Term<TW>(a, myId, myWeight, 3, L3, H3)
            + Term<TW>(a, myId, myWeight, 4, L4, H4) + Term<TW>(a, myId, myWeight, 5, L5, H5)
            + Term<TW>(a, myId, myWeight, 6, L6, H6) + Term<TW>(a, myId, myWeight, 7, L7, H7)
            + Term<TW>(a, myId, myWeight, 8, L8, H8) + Term<TW>(a, myId, myWeight, 9, L9, H9)
            + Term<TW>(a, myId, myWeight, 10, L10, H10) + Term<TW>(a, myId, myWeight, 11, L11, H11);
        return Reduce.WarpSum(o);
    }

    private static float Term<TW>(MoeArgs a, int myId, float myWeight, int j, U4 lo, U4 hi) where TW : struct, IHalfWeights
    {
        TW fmt = default;
        int e = Warp.Shuffle(myId, j);
        float w = Warp.Shuffle(myWeight, j);
        int chunks = a.Width / 8, lane = Warp.LaneIdx;
        long at = (j < a.PerToken ? (long)j * a.Width : 0) / 4;
        float t = 0f;
        if (lane < chunks) t += fmt.Chunk(lo).Dot(a.Actv, at + 2 * lane);
        if (lane + 32 < chunks) t += fmt.Chunk(hi).Dot(a.Actv, at + 2 * (lane + 32));
        return j < a.PerToken && (uint)e < (uint)a.Slots ? w * t : 0f;
    }
}
