using Fse.Kernels;
using Fse.Kernels.Cuda;
using Fse.Kernels.Cuda.Device;
using ILGPU;
using ILGPU.Runtime;

namespace Fse.DeviceBench;

/// <summary>
/// The routing of <see cref="IBackend.RouteSoftmax"/> as the chain an engine without the fused kernel runs: softmax,
/// top-k, renormalise, shared-expert sigmoid gate, one launch each (the baseline the fused kernel is measured against).
/// </summary>
internal sealed class UnfusedRouting
{
    private readonly CudaBackend _backend;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int> _softmax;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int> _topK;
    private readonly Action<KernelConfig, ArrayView<float>, int, int, int> _renormalize;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int, int> _sharedGate;

    public UnfusedRouting(CudaBackend backend)
    {
        _backend = backend;
        var acc = backend.Accelerator;
        _softmax = acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int>(Softmax);
        _topK = acc.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int>(TopK);
        _renormalize = acc.LoadStreamKernel<ArrayView<float>, int, int, int>(Renormalize);
        _sharedGate = acc.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int, int>(SharedGate);
    }

    /// <summary>logits [T, E+S] → probs [T, E] scratch → ids, weights [T, k+S].</summary>
    public void Run(CudaTensor logits, CudaTensor probs, int experts, int topK, int shared, CudaTensor ids, CudaTensor weights)
    {
        int tokens = (int)logits.Rows, width = experts + shared, slots = topK + shared;
        int group = Math.Min(128, _backend.Accelerator.MaxNumThreadsPerGroup), warps = group / _backend.Accelerator.WarpSize;
        _softmax(new KernelConfig(tokens, group, SharedMemoryConfig.RequestDynamic<float>(warps)), logits.F32, probs.F32, width, experts);
        _topK(new KernelConfig(tokens, group, SharedMemoryConfig.RequestDynamic<float>(experts + 2 * warps)), probs.F32, ids.I32, weights.F32, experts, topK, slots);
        _renormalize(new KernelConfig((tokens + group - 1) / group, group), weights.F32, topK, slots, tokens);
        _sharedGate(new KernelConfig((tokens * shared + group - 1) / group, group), logits.F32, ids.I32, weights.F32, width, experts, topK, tokens * shared);
    }

    private static void Softmax(ArrayView<float> logits, ArrayView<float> probs, int width, int experts)
    {
        var red = SharedMemory.GetDynamic<float>();
        long row = (long)Grid.IdxX * width, o = (long)Grid.IdxX * experts;
        float max = float.NegativeInfinity;
        for (int i = Group.IdxX; i < experts; i += Group.DimX) max = logits[row + i] > max ? logits[row + i] : max;
        max = Reduce.GroupMax(max, red);
        float sum = 0f;
        for (int i = Group.IdxX; i < experts; i += Group.DimX) sum += ILGPU.Algorithms.XMath.Exp(logits[row + i] - max);
        sum = Reduce.GroupSum(sum, red);
        for (int i = Group.IdxX; i < experts; i += Group.DimX) probs[o + i] = ILGPU.Algorithms.XMath.Exp(logits[row + i] - max) / sum;
    }

    private static void TopK(ArrayView<float> probs, ArrayView<int> ids, ArrayView<float> weights, int experts, int k, int slots)
    {
        var shared = SharedMemory.GetDynamic<float>();
        int warps = Group.DimX / Warp.WarpSize;
        var p = shared.SubView(0, experts);
        var red = shared.SubView(experts, warps);
        var idx = shared.Cast<int>().SubView(experts + warps, warps);
        long o = (long)Grid.IdxX * experts, t = Grid.IdxX;
        for (int i = Group.IdxX; i < experts; i += Group.DimX) p[i] = probs[o + i];
        Group.Barrier();
        for (int j = 0; j < k; j++)
        {
            float bv = float.NegativeInfinity;
            int bi = int.MaxValue;
            for (int i = Group.IdxX; i < experts; i += Group.DimX)
                if (Reduce.Before(p[i], i, bv, bi)) { bv = p[i]; bi = i; }
            Reduce.GroupArgMax(ref bv, ref bi, red, idx);
            if (Group.IdxX == 0)
            {
                ids[t * slots + j] = bi;
                weights[t * slots + j] = bv;
                p[bi] = float.NegativeInfinity;
            }
            Group.Barrier();
        }
    }

    private static void Renormalize(ArrayView<float> weights, int k, int slots, int tokens)
    {
        int t = Grid.GlobalIndex.X;
        if (t >= tokens) return;
        float sum = 0f;
        for (int j = 0; j < k; j++) sum += weights[(long)t * slots + j];
        for (int j = 0; j < k; j++) weights[(long)t * slots + j] /= sum;
    }

    private static void SharedGate(ArrayView<float> logits, ArrayView<int> ids, ArrayView<float> weights, int width, int experts, int k, int n)
    {
        int i = Grid.GlobalIndex.X;
        if (i >= n) return;
        int shared = width - experts, t = i / shared, s = i - t * shared, slots = k + shared;
        ids[(long)t * slots + k + s] = experts + s;
        weights[(long)t * slots + k + s] = Reduce.Sigmoid(logits[(long)t * width + experts + s]);
    }
}
