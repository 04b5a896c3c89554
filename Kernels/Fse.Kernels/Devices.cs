using Fse.Kernels.Cpu;
using Fse.Kernels.Cuda;

namespace Fse.Kernels;

/// <summary>Makes the backend a <c>--device</c> / <c>-Device</c> value names: auto, cpu or cuda.</summary>
public static class Devices
{
    public static readonly IReadOnlyList<string> Names = ["auto", "cpu", "cuda"];

    /// <summary>auto picks CUDA when a device and driver are present, else the CPU; cuda without one is an error.</summary>
    public static IBackend Create(string device) => device.ToLowerInvariant() switch
    {
        "cpu" => new CpuBackend(),
        "cuda" => CudaBackend.IsCudaAvailable
            ? CudaBackend.CreateCuda()
            : throw new NotSupportedException("No CUDA device is available (no NVIDIA driver or GPU was found); use the cpu device."),
        "auto" => CudaBackend.IsCudaAvailable ? CudaBackend.CreateCuda() : new CpuBackend(),
        _ => throw new ArgumentException($"Unknown device '{device}'; use {string.Join(", ", Names)}.", nameof(device)),
    };
}
