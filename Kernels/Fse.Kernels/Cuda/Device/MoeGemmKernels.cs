using ILGPU;

namespace Fse.Kernels.Cuda.Device;

/// <summary>
/// The grouped expert pass through batched cuBLAS GEMMs (prefill): after <see cref="MoeKernels.Align"/> cut each expert's
/// pairs into tiles of Rows, a chunk of Tiles tiles (from FirstTile) is gathered into bf16 terms, multiplied by its
/// expert's w13 in one batched GEMM, SiLU·mul'd and split again, multiplied by w2 in a second batched GEMM, and scattered
/// to the pair rows of Y that <see cref="MoeKernels.Combine"/> sums. Per tile the GEMM operands are [Terms·Rows, ·]
/// blocks, term-major; rows past a tile's pairs are zeros.
/// </summary>
public struct MoeGemmArgs
{
    public MoeArgs Moe;
    public ArrayView<ushort> XSplit, ActSplit;
    public ArrayView<float> C1, C2;

    /// <summary>Six arrays of Tiles device addresses: GEMM 1's A, B, C, then GEMM 2's.</summary>
    public ArrayView<long> Pointers;
    public long W13Base, W2Base, XSplitBase, C1Base, ActSplitBase, C2Base;
    public int Terms, Rows, FirstTile, Tiles;
}

public static class MoeGemmKernels
{
    public static void Pointers(MoeGemmArgs g)
    {
        var a = g.Moe;
        long h = a.Hidden, w = a.Width, block = (long)g.Terms * g.Rows;
        for (int i = Grid.GlobalIndex.X; i < g.Tiles; i += Grid.DimX * Group.DimX)
        {
            long e = a.TileExpert[g.FirstTile + i];
            g.Pointers[i] = g.W13Base + e * 2 * w * h * 2;
            g.Pointers[g.Tiles + i] = g.XSplitBase + i * block * h * 2;
            g.Pointers[2 * g.Tiles + i] = g.C1Base + i * block * 2 * w * 4;
            g.Pointers[3 * g.Tiles + i] = g.W2Base + e * h * w * 2;
            g.Pointers[4 * g.Tiles + i] = g.ActSplitBase + i * block * w * 2;
            g.Pointers[5 * g.Tiles + i] = g.C2Base + i * block * h * 4;
        }
    }

    /// <summary>XSplit[tile][term][r][k]: the bf16 terms of x at the token of the tile's r-th pair (zeros past its pairs).</summary>
    public static void GatherSplit(MoeGemmArgs g)
    {
        var a = g.Moe;
        int h = a.Hidden, rows = g.Rows;
        long n = (long)g.Tiles * rows * h;
        for (long idx = Grid.GlobalIndex.X; idx < n; idx += Grid.DimX * Group.DimX)
        {
            TileCell(idx, rows, h, out long i, out int r, out int k);
            int tile = g.FirstTile + (int)i, start = a.TileStart[tile];
            float x = r < PairsIn(a, tile, rows) ? a.X[(long)(a.Sorted[start + r] / a.PerToken) * h + k] : 0f;
            MatMulKernels.WriteBf16Terms(g.XSplit, (i * g.Terms * rows + r) * h + k, (long)rows * h, g.Terms, x);
        }
    }

    /// <summary>act = silu(Σ terms of gate) · Σ terms of up, split into bf16 terms for the down GEMM.</summary>
    public static void SiluSplit(MoeGemmArgs g)
    {
        var a = g.Moe;
        int w = a.Width, rows = g.Rows;
        long n = (long)g.Tiles * rows * w;
        for (long idx = Grid.GlobalIndex.X; idx < n; idx += Grid.DimX * Group.DimX)
        {
            TileCell(idx, rows, w, out long i, out int r, out int c);
            float gate = 0f, up = 0f;
            for (int j = 0; j < g.Terms; j++)
            {
                long o = ((i * g.Terms + j) * rows + r) * 2L * w + c;
                gate += g.C1[o];
                up += g.C1[o + w];
            }
            MatMulKernels.WriteBf16Terms(g.ActSplit, (i * g.Terms * rows + r) * w + c, (long)rows * w, g.Terms, Reduce.Silu(gate) * up);
        }
    }

    /// <summary>Y[pair, c] = Σ terms of the down GEMM's row for each of the tile's pairs.</summary>
    public static void ScatterY(MoeGemmArgs g)
    {
        var a = g.Moe;
        int h = a.Hidden, rows = g.Rows;
        long n = (long)g.Tiles * rows * h;
        for (long idx = Grid.GlobalIndex.X; idx < n; idx += Grid.DimX * Group.DimX)
        {
            TileCell(idx, rows, h, out long i, out int r, out int c);
            int tile = g.FirstTile + (int)i;
            if (r >= PairsIn(a, tile, rows)) continue;
            float y = 0f;
            for (int j = 0; j < g.Terms; j++) y += g.C2[((i * g.Terms + j) * rows + r) * h + c];
            a.Y[(long)a.Sorted[a.TileStart[tile] + r] * h + c] = y;
        }
    }

    /// <summary>A flat index over [tiles, rows, width] as (tile of the chunk, row, column).</summary>
    private static void TileCell(long idx, int rows, int width, out long tile, out int row, out int column)
    {
        tile = idx / ((long)rows * width);
        int rem = (int)(idx - tile * rows * width);
        row = rem / width;
        column = rem - row * width;
    }

    /// <summary>Pairs in a tile: its expert's pairs from the tile's start, at most a tile.</summary>
    private static int PairsIn(MoeArgs a, int tile, int rows)
    {
        int e = a.TileExpert[tile], start = a.TileStart[tile];
        int left = a.Counts[e] - (start - a.TileStart[a.TileOffsets[e]]);
        return left < rows ? left : rows;
    }
}
