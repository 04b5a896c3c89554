using Fse.Kernels.Cuda;

namespace Fse.Kernels.Tests;

/// <summary>The contract on the CUDA backend's kernels, run by ILGPU's CPU accelerator (no GPU needed).</summary>
public sealed class CudaSimulationBackendTests : BackendContract
{
    protected override IBackend CreateBackend() => CudaBackend.CreateCpuSimulation();
}
