using ILGPU;

namespace Fse.Kernels.Cuda.Device;

/// <summary>
/// The grouped expert pass. Pairs (token, slot j) are numbered p = t·P + j. <see cref="MoeKernels.Align"/> sorts them
/// by expert (counts, offsets, permutation) and cuts each expert's run into tiles of at most TileRows pairs; the gate/up
/// and down kernels then read each expert's weights once per tile; <see cref="MoeKernels.Combine"/> sums the weighted
/// expert outputs per token in slot order.
/// </summary>
public struct MoeArgs
{
    public ArrayView<byte> W13, W2;
    public ArrayView<U4> W13v, W2v;
    public ArrayView<float> X, Weights, Act, Y, Out;
    public ArrayView<U4> Xv, Actv;
    public ArrayView<int> Ids;

    /// <summary>[slots] counts, [slots] tile offsets, [pairs] sorted pairs, [maxTiles] tile expert, [maxTiles] tile start, [1] tile count.</summary>
    public ArrayView<int> Counts, TileOffsets, Sorted, TileExpert, TileStart, TileCount;
    public int Tokens, PerToken, Slots, Hidden, Width, TileRows, MaxTiles;

    /// <summary>Non-zero when Hidden and Width are multiples of 8 and every view is 16-byte aligned.</summary>
    public int Vector;
    public ArrayView<int> Status;
}

public static class MoeKernels
{
    /// <summary>
    /// One group: counts per expert (shared atomics); a group-wide scan of the counts and tile counts, each thread
    /// owning a contiguous run of experts and writing their offsets and tiles; then the permutation (the pairs of one
    /// expert in any order: each pair's output does not depend on its neighbours). Shared: count [slots], cursor [slots],
    /// one int per warp.
    /// </summary>
    public static void Align(MoeArgs a)
    {
        var shared = SharedMemory.GetDynamic<int>();
        var count = shared.SubView(0, a.Slots);
        var cursor = shared.SubView(a.Slots, a.Slots);
        var scratch = shared.SubView(2 * a.Slots, Group.DimX / Warp.WarpSize);
        int tid = Group.IdxX, pairs = a.Tokens * a.PerToken;
        for (int e = tid; e < a.Slots; e += Group.DimX) count[e] = 0;
        Group.Barrier();
        for (int p = tid; p < pairs; p += Group.DimX)
        {
            int e = a.Ids[p];
            if ((uint)e < (uint)a.Slots) Atomic.Add(ref count[e], 1);
            else a.Status[Status.BadExpertId] = 1;
        }
        Group.Barrier();
        int per = (a.Slots + Group.DimX - 1) / Group.DimX;
        int first = tid * per, last = first + per < a.Slots ? first + per : a.Slots;
        int myPairs = 0, myTiles = 0;
        for (int e = first; e < last; e++)
        {
            myPairs += count[e];
            myTiles += (count[e] + a.TileRows - 1) / a.TileRows;
        }
        int offset = Reduce.GroupExclusiveScan(myPairs, scratch, out _);
        int tile = Reduce.GroupExclusiveScan(myTiles, scratch, out int tiles);
        for (int e = first; e < last; e++)
        {
            int c = count[e];
            cursor[e] = offset;
            a.Counts[e] = c;
            a.TileOffsets[e] = tile;
            for (int r = 0; r < c; r += a.TileRows)
            {
                a.TileExpert[tile] = e;
                a.TileStart[tile] = offset + r;
                tile++;
            }
            offset += c;
        }
        if (tid == 0) a.TileCount[0] = tiles;
        Group.Barrier();
        for (int p = tid; p < pairs; p += Group.DimX)
        {
            int e = a.Ids[p];
            if ((uint)e < (uint)a.Slots) a.Sorted[Atomic.Add(ref cursor[e], 1)] = p;
        }
    }

    /// <summary>
    /// <see cref="GateUp{TW}"/> for the vector layout, one warp per (tile, two consecutive intermediate columns i, i+1):
    /// a pass loads the four gate and up rows' chunks together and each pair's input chunk once for all four, so each
    /// input load serves twice the weight bytes. Grid: tiles × ceil(Width / (warps · 2)).
    /// </summary>
    public static void GateUpTwoRows<TW>(MoeArgs a) where TW : struct, IWeightFormat
    {
        int warps = Group.DimX / Warp.WarpSize, perGroup = 2 * warps;
        int rowBlocks = (a.Width + perGroup - 1) / perGroup;
        int tile = Grid.IdxX / rowBlocks;
        int i = ((Grid.IdxX - tile * rowBlocks) * warps + Warp.WarpIdx) * 2;
        if (tile >= a.TileCount[0] || i >= a.Width) return;
        int e = a.TileExpert[tile], start = a.TileStart[tile];
        int rows = a.Counts[e] - (start - FirstRow(a, e));
        if (rows > MatMulKernels.GemvTokenTile) rows = MatMulKernels.GemvTokenTile;
        long xs = a.Hidden / 4;
        long x0 = a.Sorted[start] / a.PerToken * xs;
        long x1 = rows > 1 ? a.Sorted[start + 1] / a.PerToken * xs : x0;
        long x2 = rows > 2 ? a.Sorted[start + 2] / a.PerToken * xs : x0;
        long x3 = rows > 3 ? a.Sorted[start + 3] / a.PerToken * xs : x0;
        TW fmt = default;
        int lane = Warp.LaneIdx, ws = Warp.WarpSize, chunks = a.Hidden / 8;
        bool has1 = i + 1 < a.Width;
        long gate0 = ((long)e * 2 * a.Width + i) * chunks, up0 = gate0 + (long)a.Width * chunks;
        var g0 = new Acc4();
        var g1 = new Acc4();
        var u0 = new Acc4();
        var u1 = new Acc4();
        for (int c = lane; c < chunks; c += ws)
        {
            F8 wg0 = fmt.Chunk(a.W13v, gate0 + c), wu0 = fmt.Chunk(a.W13v, up0 + c);
            F8 wg1 = has1 ? fmt.Chunk(a.W13v, gate0 + chunks + c) : default, wu1 = has1 ? fmt.Chunk(a.W13v, up0 + chunks + c) : default;
            AddTilePass(ref g0, ref g1, ref u0, ref u1, wg0, wg1, wu0, wu1, a.Xv, x0 + 2 * c, x1 + 2 * c, x2 + 2 * c, x3 + 2 * c, rows);
        }
        g0 = g0.WarpSum(rows);
        g1 = g1.WarpSum(rows);
        u0 = u0.WarpSum(rows);
        u1 = u1.WarpSum(rows);
        if (lane != 0) return;
        for (int j = 0; j < rows; j++)
        {
            long o = (long)(start + j) * a.Width + i;
            a.Act[o] = Reduce.Silu(g0.Get(j)) * u0.Get(j);
            if (has1) a.Act[o + 1] = Reduce.Silu(g1.Get(j)) * u1.Get(j);
        }
    }

    /// <summary>
    /// One pass of the vector tile kernels: four weight chunks against the same chunk of each of the tile's ≤ 4 inputs
    /// (input j's chunk at <paramref name="x0"/> … <paramref name="x3"/>, in 16-byte units), each input loaded once for
    /// all four rows; row r's sum for input j goes to field j of <paramref name="s0"/> … <paramref name="s3"/>.
    /// </summary>
    private static void AddTilePass(ref Acc4 s0, ref Acc4 s1, ref Acc4 s2, ref Acc4 s3, F8 w0, F8 w1, F8 w2, F8 w3,
        ArrayView<U4> x, long x0, long x1, long x2, long x3, int rows)
    {
        F8 v = F8.Floats(x, x0);
        s0.A += w0.Dot(v); s1.A += w1.Dot(v); s2.A += w2.Dot(v); s3.A += w3.Dot(v);
        if (rows > 1)
        {
            v = F8.Floats(x, x1);
            s0.B += w0.Dot(v); s1.B += w1.Dot(v); s2.B += w2.Dot(v); s3.B += w3.Dot(v);
        }
        if (rows > 2)
        {
            v = F8.Floats(x, x2);
            s0.C += w0.Dot(v); s1.C += w1.Dot(v); s2.C += w2.Dot(v); s3.C += w3.Dot(v);
        }
        if (rows > 3)
        {
            v = F8.Floats(x, x3);
            s0.D += w0.Dot(v); s1.D += w1.Dot(v); s2.D += w2.Dot(v); s3.D += w3.Dot(v);
        }
    }

    /// <summary>
    /// act[sorted row, i] = silu(gate_i · x) · (up_i · x) for the ≤ 4 pairs of a tile, for weights whose rows are not
    /// whole 16-byte chunks (the vector layout runs <see cref="GateUpTwoRows{TW}"/>): one warp per (tile, i), element
    /// loads. Grid: MaxTiles × ceil(Width / warps); groups past the tile count exit.
    /// </summary>
    public static void GateUp<TW>(MoeArgs a) where TW : struct, IWeightFormat
    {
        int warps = Group.DimX / Warp.WarpSize;
        int rowBlocks = (a.Width + warps - 1) / warps;
        int tile = Grid.IdxX / rowBlocks;
        int i = (Grid.IdxX - tile * rowBlocks) * warps + Warp.WarpIdx;
        if (tile >= a.TileCount[0] || i >= a.Width) return;
        int e = a.TileExpert[tile], start = a.TileStart[tile];
        int rows = a.Counts[e] - (start - FirstRow(a, e));
        if (rows > MatMulKernels.GemvTokenTile) rows = MatMulKernels.GemvTokenTile;
        int t0 = a.Sorted[start] / a.PerToken;
        int t1 = rows > 1 ? a.Sorted[start + 1] / a.PerToken : t0;
        int t2 = rows > 2 ? a.Sorted[start + 2] / a.PerToken : t0;
        int t3 = rows > 3 ? a.Sorted[start + 3] / a.PerToken : t0;
        TW fmt = default;
        int lane = Warp.LaneIdx, ws = Warp.WarpSize, h = a.Hidden;
        long gateRow = (long)e * 2 * a.Width + i, upRow = gateRow + a.Width;
        float g0 = 0f, g1 = 0f, g2 = 0f, g3 = 0f, u0 = 0f, u1 = 0f, u2 = 0f, u3 = 0f;
        for (int k = lane; k < h; k += ws)
        {
            float wg = fmt.Scalar(a.W13, gateRow * h + k), wu = fmt.Scalar(a.W13, upRow * h + k);
            float x0 = a.X[(long)t0 * h + k];
            g0 += wg * x0; u0 += wu * x0;
            if (rows > 1) { float x = a.X[(long)t1 * h + k]; g1 += wg * x; u1 += wu * x; }
            if (rows > 2) { float x = a.X[(long)t2 * h + k]; g2 += wg * x; u2 += wu * x; }
            if (rows > 3) { float x = a.X[(long)t3 * h + k]; g3 += wg * x; u3 += wu * x; }
        }
        g0 = Reduce.WarpSum(g0); u0 = Reduce.WarpSum(u0);
        g1 = Reduce.WarpSum(g1); u1 = Reduce.WarpSum(u1);
        g2 = Reduce.WarpSum(g2); u2 = Reduce.WarpSum(u2);
        g3 = Reduce.WarpSum(g3); u3 = Reduce.WarpSum(u3);
        if (lane == 0)
        {
            long o = (long)start * a.Width + i;
            a.Act[o] = Reduce.Silu(g0) * u0;
            if (rows > 1) a.Act[o + a.Width] = Reduce.Silu(g1) * u1;
            if (rows > 2) a.Act[o + 2 * a.Width] = Reduce.Silu(g2) * u2;
            if (rows > 3) a.Act[o + 3 * a.Width] = Reduce.Silu(g3) * u3;
        }
    }

    /// <summary>Output columns a warp of <see cref="DownFourRows{TW}"/> computes.</summary>
    public const int DownRowsPerWarp = 4;

    /// <summary>
    /// <see cref="Down{TW}"/> for the vector layout, one warp per (tile, four consecutive output columns c … c+3): a
    /// pass loads the four down rows' chunks together and each pair's activation chunk once for all four. With one
    /// column per warp, a tile pass at 64 tokens (~400 tiles × 2048 columns) was mostly warps that each read 1 KB.
    /// Grid: tiles × ceil(Hidden / (warps · 4)).
    /// </summary>
    public static void DownFourRows<TW>(MoeArgs a) where TW : struct, IWeightFormat
    {
        int warps = Group.DimX / Warp.WarpSize, perGroup = warps * DownRowsPerWarp;
        int rowBlocks = (a.Hidden + perGroup - 1) / perGroup;
        int tile = Grid.IdxX / rowBlocks;
        int c = ((Grid.IdxX - tile * rowBlocks) * warps + Warp.WarpIdx) * DownRowsPerWarp;
        if (tile >= a.TileCount[0] || c >= a.Hidden) return;
        int e = a.TileExpert[tile], start = a.TileStart[tile];
        int rows = a.Counts[e] - (start - FirstRow(a, e));
        if (rows > MatMulKernels.GemvTokenTile) rows = MatMulKernels.GemvTokenTile;
        TW fmt = default;
        int lane = Warp.LaneIdx, ws = Warp.WarpSize, chunks = a.Width / 8;
        long xs = a.Width / 4, x0 = start * xs, w0 = ((long)e * a.Hidden + c) * chunks;
        bool has1 = c + 1 < a.Hidden, has2 = c + 2 < a.Hidden, has3 = c + 3 < a.Hidden;
        var s0 = new Acc4();
        var s1 = new Acc4();
        var s2 = new Acc4();
        var s3 = new Acc4();
        for (int k = lane; k < chunks; k += ws)
        {
            F8 d0 = fmt.Chunk(a.W2v, w0 + k);
            F8 d1 = has1 ? fmt.Chunk(a.W2v, w0 + chunks + k) : default;
            F8 d2 = has2 ? fmt.Chunk(a.W2v, w0 + 2 * chunks + k) : default;
            F8 d3 = has3 ? fmt.Chunk(a.W2v, w0 + 3 * chunks + k) : default;
            AddTilePass(ref s0, ref s1, ref s2, ref s3, d0, d1, d2, d3, a.Actv, x0 + 2 * k, x0 + xs + 2 * k, x0 + 2 * xs + 2 * k, x0 + 3 * xs + 2 * k, rows);
        }
        s0 = s0.WarpSum(rows);
        s1 = s1.WarpSum(rows);
        s2 = s2.WarpSum(rows);
        s3 = s3.WarpSum(rows);
        if (lane != 0) return;
        for (int j = 0; j < rows; j++)
        {
            long y = (long)a.Sorted[start + j] * a.Hidden + c;
            a.Y[y] = s0.Get(j);
            if (has1) a.Y[y + 1] = s1.Get(j);
            if (has2) a.Y[y + 2] = s2.Get(j);
            if (has3) a.Y[y + 3] = s3.Get(j);
        }
    }

    /// <summary>
    /// y[pair, c] = down_c · act[sorted row] for the ≤ 4 pairs of a tile, stored by pair number so that
    /// <see cref="Combine"/> can sum a token's slots in order; element loads, for the scalar layout (the vector layout
    /// runs <see cref="DownFourRows{TW}"/>). One warp per (tile, c).
    /// </summary>
    public static void Down<TW>(MoeArgs a) where TW : struct, IWeightFormat
    {
        int warps = Group.DimX / Warp.WarpSize;
        int rowBlocks = (a.Hidden + warps - 1) / warps;
        int tile = Grid.IdxX / rowBlocks;
        int c = (Grid.IdxX - tile * rowBlocks) * warps + Warp.WarpIdx;
        if (tile >= a.TileCount[0] || c >= a.Hidden) return;
        int e = a.TileExpert[tile], start = a.TileStart[tile];
        int rows = a.Counts[e] - (start - FirstRow(a, e));
        if (rows > MatMulKernels.GemvTokenTile) rows = MatMulKernels.GemvTokenTile;
        TW fmt = default;
        int lane = Warp.LaneIdx, ws = Warp.WarpSize, w = a.Width;
        long row = (long)e * a.Hidden + c;
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        long x0 = (long)start * w;
        for (int k = lane; k < w; k += ws)
        {
            float wd = fmt.Scalar(a.W2, row * w + k);
            s0 += wd * a.Act[x0 + k];
            if (rows > 1) s1 += wd * a.Act[x0 + w + k];
            if (rows > 2) s2 += wd * a.Act[x0 + 2 * w + k];
            if (rows > 3) s3 += wd * a.Act[x0 + 3 * w + k];
        }
        s0 = Reduce.WarpSum(s0);
        s1 = Reduce.WarpSum(s1);
        s2 = Reduce.WarpSum(s2);
        s3 = Reduce.WarpSum(s3);
        if (lane == 0)
        {
            a.Y[(long)a.Sorted[start] * a.Hidden + c] = s0;
            if (rows > 1) a.Y[(long)a.Sorted[start + 1] * a.Hidden + c] = s1;
            if (rows > 2) a.Y[(long)a.Sorted[start + 2] * a.Hidden + c] = s2;
            if (rows > 3) a.Y[(long)a.Sorted[start + 3] * a.Hidden + c] = s3;
        }
    }

    /// <summary>
    /// One warp per (item, row) with rows of <paramref name="rowsPerItem"/> spread over ceil(rowsPerItem / warps) groups
    /// per item: this warp's item and row, false for the spare warps of an item's last group.
    /// </summary>
    private static bool WarpRow(int rowsPerItem, out int item, out int row)
    {
        int warps = Group.DimX / Warp.WarpSize;
        int rowBlocks = (rowsPerItem + warps - 1) / warps;
        item = Grid.IdxX / rowBlocks;
        row = (Grid.IdxX - item * rowBlocks) * warps + Warp.WarpIdx;
        return row < rowsPerItem;
    }

    /// <summary>
    /// Few-token path, no alignment: act[p, i] = silu(gate_i · x) · (up_i · x) for pair p = t·P + j of expert ids[p],
    /// one warp per (pair, i), 128-bit loads (the vector layout only). Grid: pairs × ceil(Width / warps).
    /// </summary>
    public static void GateUpDirect<TW>(MoeArgs a) where TW : struct, IWeightFormat
    {
        if (!WarpRow(a.Width, out int p, out int i)) return;
        int e = a.Ids[p];
        if ((uint)e >= (uint)a.Slots)
        {
            if (i == 0 && Warp.LaneIdx == 0) a.Status[Status.BadExpertId] = 1;
            return;
        }
        TW fmt = default;
        int lane = Warp.LaneIdx, ws = Warp.WarpSize, chunks = a.Hidden / 8;
        long gateRow = ((long)e * 2 * a.Width + i) * chunks, upRow = gateRow + (long)a.Width * chunks, xs = (long)(p / a.PerToken) * (a.Hidden / 4);
        float g = 0f, u = 0f;
        int c = lane;
        // Four chunks of each row per pass (eight 128-bit loads in flight): a 2048-wide row is two waits on memory, not eight.
        for (; c + 3 * ws < chunks; c += 4 * ws)
        {
            F8 g0 = fmt.Chunk(a.W13v, gateRow + c), g1 = fmt.Chunk(a.W13v, gateRow + c + ws);
            F8 g2 = fmt.Chunk(a.W13v, gateRow + c + 2 * ws), g3 = fmt.Chunk(a.W13v, gateRow + c + 3 * ws);
            F8 u0 = fmt.Chunk(a.W13v, upRow + c), u1 = fmt.Chunk(a.W13v, upRow + c + ws);
            F8 u2 = fmt.Chunk(a.W13v, upRow + c + 2 * ws), u3 = fmt.Chunk(a.W13v, upRow + c + 3 * ws);
            g += MatMulKernels.Dot4(g0, g1, g2, g3, a.Xv, xs, c, ws);
            u += MatMulKernels.Dot4(u0, u1, u2, u3, a.Xv, xs, c, ws);
        }
        for (; c < chunks; c += ws)
        {
            g += fmt.Chunk(a.W13v, gateRow + c).Dot(a.Xv, xs + 2 * c);
            u += fmt.Chunk(a.W13v, upRow + c).Dot(a.Xv, xs + 2 * c);
        }
        g = Reduce.WarpSum(g);
        u = Reduce.WarpSum(u);
        if (lane == 0) a.Act[(long)p * a.Width + i] = Reduce.Silu(g) * u;
    }

    /// <summary>
    /// Few-token path: out[t, c] = Σ_j weights[t, j] · (down_{ids[t, j]}, c · act[t·P + j]), one warp per (token, c):
    /// the down projection and the weighted combine in one pass. The lanes load the token's ids and weights once (lane j
    /// holds slot j) and pass them round by shuffles; slots go four at a time, so their rows are in flight together, and
    /// each lane sums its weighted partial products over every slot before the single warp sum.
    /// Grid: tokens × ceil(Hidden / warps).
    /// </summary>
    public static void DownCombineDirect<TW>(MoeArgs a) where TW : struct, IWeightFormat
    {
        if (!WarpRow(a.Hidden, out int t, out int c)) return;
        TW fmt = default;
        int lane = Warp.LaneIdx, ws = Warp.WarpSize, chunks = a.Width / 8;
        long actRow = a.Width / 4;
        float o = 0f;
        for (int jb = 0; jb < a.PerToken; jb += ws)
        {
            int mine = jb + lane < a.PerToken ? t * a.PerToken + jb + lane : -1;
            int myId = mine >= 0 ? a.Ids[mine] : -1;
            float myWeight = mine >= 0 ? a.Weights[mine] : 0f;
            int inBlock = a.PerToken - jb < ws ? a.PerToken - jb : ws;
            for (int j = 0; j < inBlock; j += 4)
            {
                long r0 = DownRow(a, Warp.Shuffle(myId, j), c, chunks), r1 = DownRow(a, Warp.Shuffle(myId, j + 1 < ws ? j + 1 : 0), c, chunks);
                long r2 = DownRow(a, Warp.Shuffle(myId, j + 2 < ws ? j + 2 : 0), c, chunks), r3 = DownRow(a, Warp.Shuffle(myId, j + 3 < ws ? j + 3 : 0), c, chunks);
                float w0 = Warp.Shuffle(myWeight, j), w1 = Warp.Shuffle(myWeight, j + 1 < ws ? j + 1 : 0);
                float w2 = Warp.Shuffle(myWeight, j + 2 < ws ? j + 2 : 0), w3 = Warp.Shuffle(myWeight, j + 3 < ws ? j + 3 : 0);
                if (j + 1 >= inBlock) r1 = -1;
                if (j + 2 >= inBlock) r2 = -1;
                if (j + 3 >= inBlock) r3 = -1;
                long p0 = (long)t * a.PerToken + jb + j;
                // Every row and act chunk is loaded whether its slot exists or not (a missing one reads a valid address:
                // expert 0's row, the first pair's act) and its term is dropped by a select, so no load waits behind a
                // branch (H100, in a graph: T=2 66.6 -> 62.6 µs, T=4 121.5 -> 118.2). The same in the tile kernels was
                // slower (T=16 332 -> 376 µs): there the tile's missing inputs cost real loads and registers.
                bool v0 = r0 >= 0, v1 = r1 >= 0, v2 = r2 >= 0, v3 = r3 >= 0;
                long b0 = v0 ? r0 : 0, b1 = v1 ? r1 : 0, b2 = v2 ? r2 : 0, b3 = v3 ? r3 : 0;
                long a0 = p0 * actRow, a1 = j + 1 < inBlock ? a0 + actRow : a0, a2 = j + 2 < inBlock ? a0 + 2 * actRow : a0, a3 = j + 3 < inBlock ? a0 + 3 * actRow : a0;
                // Two chunks of each of the four rows per pass: a 512-wide row is one wait on memory per four slots.
                for (int k = lane; k < chunks; k += 2 * ws)
                {
                    int k2 = k + ws;
                    bool second = k2 < chunks;
                    int kk = second ? k2 : k;
                    F8 d0 = fmt.Chunk(a.W2v, b0 + k), d1 = fmt.Chunk(a.W2v, b1 + k), d2 = fmt.Chunk(a.W2v, b2 + k), d3 = fmt.Chunk(a.W2v, b3 + k);
                    F8 e0 = fmt.Chunk(a.W2v, b0 + kk), e1 = fmt.Chunk(a.W2v, b1 + kk), e2 = fmt.Chunk(a.W2v, b2 + kk), e3 = fmt.Chunk(a.W2v, b3 + kk);
                    float t0 = d0.Dot(a.Actv, a0 + 2 * k), t1 = d1.Dot(a.Actv, a1 + 2 * k), t2 = d2.Dot(a.Actv, a2 + 2 * k), t3 = d3.Dot(a.Actv, a3 + 2 * k);
                    float u0 = e0.Dot(a.Actv, a0 + 2 * kk), u1 = e1.Dot(a.Actv, a1 + 2 * kk), u2 = e2.Dot(a.Actv, a2 + 2 * kk), u3 = e3.Dot(a.Actv, a3 + 2 * kk);
                    o += v0 ? w0 * t0 : 0f;
                    o += v1 ? w1 * t1 : 0f;
                    o += v2 ? w2 * t2 : 0f;
                    o += v3 ? w3 * t3 : 0f;
                    o += v0 & second ? w0 * u0 : 0f;
                    o += v1 & second ? w1 * u1 : 0f;
                    o += v2 & second ? w2 * u2 : 0f;
                    o += v3 & second ? w3 * u3 : 0f;
                }
            }
        }
        o = Reduce.WarpSum(o);
        if (lane == 0) a.Out[(long)t * a.Hidden + c] = o;
    }

    /// <summary>Row c of expert <paramref name="e"/>'s down matrix in chunks, or −1 for an id outside the set (flagged by the gate/up pass).</summary>
    private static long DownRow(MoeArgs a, int e, int c, int chunks) => (uint)e < (uint)a.Slots ? ((long)e * a.Hidden + c) * chunks : -1;

    /// <summary>out[t, c] = Σ_j weights[t, j] · y[t·P + j, c], skipping ids outside the set (already flagged by Align).</summary>
    public static void Combine(MoeArgs a)
    {
        int n = a.Tokens * a.Hidden;
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX)
        {
            int t = i / a.Hidden, c = i - t * a.Hidden;
            float o = 0f;
            for (int j = 0; j < a.PerToken; j++)
            {
                int p = t * a.PerToken + j;
                if ((uint)a.Ids[p] < (uint)a.Slots) o += a.Weights[p] * a.Y[(long)p * a.Hidden + c];
            }
            a.Out[i] = o;
        }
    }

    /// <summary>The sorted row where expert e's pairs begin: its tile offset's first tile start.</summary>
    private static int FirstRow(MoeArgs a, int e) => a.TileStart[a.TileOffsets[e]];
}

/// <summary>One output column's sums for the ≤ 4 pairs of a tile (A: the tile's first pair, …).</summary>
public struct Acc4
{
    public float A, B, C, D;

    /// <summary>Each of the first <paramref name="used"/> sums added up over the warp.</summary>
    public readonly Acc4 WarpSum(int used) => new()
    {
        A = Reduce.WarpSum(A),
        B = used > 1 ? Reduce.WarpSum(B) : 0f,
        C = used > 2 ? Reduce.WarpSum(C) : 0f,
        D = used > 3 ? Reduce.WarpSum(D) : 0f,
    };

    public readonly float Get(int j) => j == 0 ? A : j == 1 ? B : j == 2 ? C : D;
}
