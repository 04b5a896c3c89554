using System.Runtime.InteropServices;
using Fse.Kernels;

namespace Fse.DeviceBench;

/// <summary>Seeded random weights in native memory, handed to backends as <see cref="HostTensor"/>s (the CPU backend reads them in place).</summary>
internal sealed unsafe class HostWeights : IDisposable
{
    private readonly List<nint> _blocks = [];

    public HostTensor Random(DType dtype, int[] shape, int seed, float scale = 1f)
    {
        long n = Tensor.Count(shape);
        var p = (nint)NativeMemory.AlignedAlloc((nuint)(n * dtype.Size()), 64);
        _blocks.Add(p);
        var rng = new Random(seed);
        for (long i = 0; i < n; i++)
        {
            float v = scale * (float)(2 * rng.NextDouble() - 1);
            if (dtype == DType.F32) ((float*)p)[i] = v;
            else if (dtype == DType.BF16) ((ushort*)p)[i] = Bf16.FromF32(v);
            else ((Half*)p)[i] = (Half)v;
        }
        return new HostTensor(dtype, shape, (void*)p);
    }

    public static float[] Floats(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = scale * (float)(2 * rng.NextDouble() - 1);
        return a;
    }

    public void Dispose()
    {
        foreach (var p in _blocks) NativeMemory.AlignedFree((void*)p);
        _blocks.Clear();
    }
}
