using ILGPU;

namespace Fse.Kernels.Cuda.Device;

/// <summary>Token choice on the device, so a greedy decode step returns one index per row instead of a row of logits.</summary>
public static class SamplingKernels
{
    /// <summary>Chunks (four floats) a thread of <see cref="ArgMax"/> loads before it compares: one wait on L2 per four.</summary>
    private const int InFlight = 4;

    /// <summary>
    /// One group per row of <paramref name="width"/> values: the index of the largest, the lowest among equals, NaNs
    /// skipped; 0 when the row starts with NaN or holds nothing else (as the host scan from index 0 decides). With
    /// <paramref name="vector"/>, 128-bit loads, <see cref="InFlight"/> of them issued before any is used (every thread
    /// loads a valid chunk, the clamped ones compare as later duplicates and never win).
    /// </summary>
    public static void ArgMax(ArrayView<float> x, ArrayView<U4> xv, ArrayView<float> output, int width, int vector)
    {
        var values = SharedMemory.Allocate<float>(32);
        var indices = SharedMemory.Allocate<int>(32);
        long b = (long)Grid.IdxX * width;
        float bv = float.NegativeInfinity;
        int bi = int.MaxValue;
        if (vector != 0) ScanChunks(xv, b / 4, 0, width / 4, ref bv, ref bi);
        else
        {
            for (int i = Group.IdxX; i < width; i += Group.DimX) Consider(x[b + i], i, ref bv, ref bi);
        }
        Reduce.GroupArgMax(ref bv, ref bi, values, indices);
        if (Group.IdxX != 0) return;
        float first = x[b];
        output[Grid.IdxX] = float.IsNaN(first) || bi == int.MaxValue ? 0f : bi;
    }

    /// <summary>
    /// Wide rows: group g takes part g % <paramref name="parts"/> of row g / parts (a run of whole chunks, or of elements
    /// without <paramref name="vector"/>) and writes its best (value, index) to <paramref name="partValues"/>,
    /// <paramref name="partIndices"/>[g] (−∞ and int.MaxValue when the part holds no number); <see cref="ArgMaxCombine"/>
    /// then picks among a row's parts. One group scanning a 151936-wide row waited on memory nine times in a row.
    /// </summary>
    public static void ArgMaxParts(ArrayView<float> x, ArrayView<U4> xv, ArrayView<float> partValues, ArrayView<int> partIndices, int width, int parts, int vector)
    {
        var values = SharedMemory.Allocate<float>(32);
        var indices = SharedMemory.Allocate<int>(32);
        int row = Grid.IdxX / parts, part = Grid.IdxX - row * parts;
        long b = (long)row * width;
        float bv = float.NegativeInfinity;
        int bi = int.MaxValue;
        if (vector != 0)
        {
            int chunks = width / 4, per = (chunks + parts - 1) / parts, begin = part * per;
            ScanChunks(xv, b / 4, begin, begin + per < chunks ? begin + per : chunks, ref bv, ref bi);
        }
        else
        {
            int per = (width + parts - 1) / parts, begin = part * per, end = begin + per < width ? begin + per : width;
            for (int i = begin + Group.IdxX; i < end; i += Group.DimX) Consider(x[b + i], i, ref bv, ref bi);
        }
        Reduce.GroupArgMax(ref bv, ref bi, values, indices);
        if (Group.IdxX != 0) return;
        partValues[Grid.IdxX] = bv;
        partIndices[Grid.IdxX] = bi;
    }

    /// <summary>Each row's choice among its <paramref name="parts"/> from <see cref="ArgMaxParts"/>, under the rules of <see cref="ArgMax"/>; one group per row.</summary>
    public static void ArgMaxCombine(ArrayView<float> x, ArrayView<float> partValues, ArrayView<int> partIndices, ArrayView<float> output, int width, int parts)
    {
        var values = SharedMemory.Allocate<float>(32);
        var indices = SharedMemory.Allocate<int>(32);
        int row = Grid.IdxX;
        float bv = float.NegativeInfinity;
        int bi = int.MaxValue;
        for (int p = Group.IdxX; p < parts; p += Group.DimX)
        {
            long at = (long)row * parts + p;
            Consider(partValues[at], partIndices[at], ref bv, ref bi);
        }
        Reduce.GroupArgMax(ref bv, ref bi, values, indices);
        if (Group.IdxX != 0) return;
        float first = x[(long)row * width];
        output[row] = float.IsNaN(first) || bi == int.MaxValue ? 0f : bi;
    }

    /// <summary>
    /// The thread's share of chunks [begin, end) of the row whose chunk 0 is at <paramref name="rowChunk"/>:
    /// <see cref="InFlight"/> loads issued before any is used (every thread loads a valid chunk; the clamped ones compare
    /// as later duplicates and never win).
    /// </summary>
    private static void ScanChunks(ArrayView<U4> xv, long rowChunk, int begin, int end, ref float bv, ref int bi)
    {
        int step = Group.DimX;
        for (int c = begin + Group.IdxX; c < end; c += InFlight * step)
        {
            int c1 = c + step < end ? c + step : c, c2 = c + 2 * step < end ? c + 2 * step : c, c3 = c + 3 * step < end ? c + 3 * step : c;
            U4 u0 = xv[rowChunk + c], u1 = xv[rowChunk + c1], u2 = xv[rowChunk + c2], u3 = xv[rowChunk + c3];
            Consider(u0, 4 * c, ref bv, ref bi);
            Consider(u1, 4 * c1, ref bv, ref bi);
            Consider(u2, 4 * c2, ref bv, ref bi);
            Consider(u3, 4 * c3, ref bv, ref bi);
        }
    }

    private static void Consider(U4 u, int i, ref float bv, ref int bi)
    {
        Consider(Interop.IntAsFloat(u.X), i, ref bv, ref bi);
        Consider(Interop.IntAsFloat(u.Y), i + 1, ref bv, ref bi);
        Consider(Interop.IntAsFloat(u.Z), i + 2, ref bv, ref bi);
        Consider(Interop.IntAsFloat(u.W), i + 3, ref bv, ref bi);
    }

    private static void Consider(float v, int i, ref float bv, ref int bi)
    {
        if (Reduce.Before(v, i, bv, bi))
        {
            bv = v;
            bi = i;
        }
    }
}
