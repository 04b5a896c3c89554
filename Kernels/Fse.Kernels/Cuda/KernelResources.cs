namespace Fse.Kernels.Cuda;

/// <summary>
/// One loaded kernel as the driver compiled it (<see cref="CudaBackend.KernelResources"/>): registers and spilled local
/// bytes per thread, static shared bytes, the largest group it can run, and the groups of <see cref="GroupSize"/> threads
/// a multiprocessor holds at once.
/// </summary>
public sealed record KernelResources(string Name, int Registers, int LocalBytes, int StaticSharedBytes, int MaxThreadsPerGroup, int GroupSize, int GroupsPerMultiprocessor);
