using ILGPU.Runtime;

namespace Fse.Kernels.Cuda;

/// <summary>
/// One MoE layer's slots packed contiguously on the device in their dtype: w13 [slots, 2·width, hidden] (a slot's gate
/// rows, then its up rows) and w2 [slots, hidden, width].
/// </summary>
internal sealed class CudaExpertSet(CudaBackend owner, DType dtype, MemoryBuffer1D<byte, ILGPU.Stride1D.Dense> w13, MemoryBuffer1D<byte, ILGPU.Stride1D.Dense> w2, int slots, int hidden, int width)
    : ExpertSet(slots, hidden, width)
{
    public CudaBackend Owner { get; } = owner;
    public DType DType { get; } = dtype;
    public MemoryBuffer1D<byte, ILGPU.Stride1D.Dense> W13 { get; } = w13;
    public MemoryBuffer1D<byte, ILGPU.Stride1D.Dense> W2 { get; } = w2;

    public override void Dispose()
    {
        W13.Dispose();
        W2.Dispose();
    }
}
