using ILGPU;

namespace Fse.Kernels.Cuda.Device;

/// <summary>One thread per element (grid-stride), for the memory-bound element-wise ops.</summary>
public static class ElementwiseKernels
{
    public static void Add(ArrayView<float> a, ArrayView<float> b, ArrayView<float> o, int n)
    {
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX) o[i] = a[i] + b[i];
    }

    public static void SiluMul(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> o, int n)
    {
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX) o[i] = Reduce.Silu(gate[i]) * up[i];
    }

    public static void SigmoidMul(ArrayView<float> x, ArrayView<float> gate, ArrayView<float> o, int n)
    {
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX) o[i] = x[i] * Reduce.Sigmoid(gate[i]);
    }

    /// <summary>o[t, :] += sigmoid(gate[t]) · x[t, :] over rows of <paramref name="width"/>.</summary>
    public static void SigmoidScaleAdd(ArrayView<float> o, ArrayView<float> x, ArrayView<float> gate, int n, int width)
    {
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX) o[i] += Reduce.Sigmoid(gate[i / width]) * x[i];
    }

    /// <summary>
    /// output[t, :] = table[ids[t], :] widened to F32. An id outside the table writes NaN and raises
    /// <see cref="Status.BadTokenId"/> instead of reading out of bounds.
    /// </summary>
    public static void Embedding<TW>(ArrayView<int> ids, ArrayView<byte> table, ArrayView<float> o, int tokens, int width, int rows, ArrayView<int> status)
        where TW : struct, IWeightFormat
    {
        TW fmt = default;
        int n = tokens * width;
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX)
        {
            int t = i / width, c = i - t * width;
            int id = ids[t];
            if ((uint)id >= (uint)rows)
            {
                o[i] = float.NaN;
                status[Status.BadTokenId] = 1;
            }
            else
            {
                o[i] = fmt.Scalar(table, (long)id * width + c);
            }
        }
    }

    /// <summary>Rotate-half rotary embedding in place with per-token cos/sin tables [T, rot/2] computed on the host as HF does.</summary>
    public static void Rope(ArrayView<float> x, ArrayView<float> cos, ArrayView<float> sin, int tokens, int heads, int headDim, int half)
    {
        int n = tokens * heads * half;
        for (int j = Grid.GlobalIndex.X; j < n; j += Grid.DimX * Group.DimX)
        {
            int i = j % half;
            int th = j / half;
            int t = th / heads;
            long b = (long)th * headDim;
            float c = cos[t * half + i], s = sin[t * half + i];
            float a = x[b + i], v = x[b + i + half];
            x[b + i] = a * c - v * s;
            x[b + i + half] = v * c + a * s;
        }
    }
}

/// <summary>Slots of the device status word: kernels raise a flag instead of touching memory out of bounds; the host reports it at the next synchronisation.</summary>
public static class Status
{
    public const int BadTokenId = 0;
    public const int BadCacheSlot = 1;
    public const int BadExpertId = 2;
    public const int BadStateSlot = 3;
    public const int Count = 4;
}
