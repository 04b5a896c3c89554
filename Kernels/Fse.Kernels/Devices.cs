using Fse.Kernels.Cpu;
using Fse.Kernels.Cuda;

namespace Fse.Kernels;

/// <summary>
/// Turns a device name (<c>--device</c> of fse-server, <c>-Device</c> of the cmdlets) into a backend. The one place
/// that knows which backends a build carries.
/// </summary>
public static class Devices
{
    public const string Auto = "auto";
    public const string Cpu = "cpu";
    public const string Cuda = "cuda";

    /// <summary>The names <see cref="Create"/> accepts, in any case.</summary>
    public static IReadOnlyList<string> Names { get; } = [Auto, Cpu, Cuda];

    /// <summary>The backend <paramref name="device"/> names: "auto" is CUDA when a device and driver are present, else the CPU.</summary>
    /// <exception cref="ArgumentException">The name is none of <see cref="Names"/>.</exception>
    /// <exception cref="NotSupportedException">"cuda" on a machine without a CUDA device.</exception>
    public static IBackend Create(string device) => Resolve(device) switch
    {
        Cpu => new CpuBackend(),
        _ => CudaBackend.IsCudaAvailable
            ? CudaBackend.CreateCuda()
            : throw new NotSupportedException("No CUDA device is available (no NVIDIA driver or GPU was found); use the cpu device (or auto)."),
    };

    /// <summary>The concrete device <paramref name="device"/> stands for ("auto" resolved), lower case.</summary>
    /// <exception cref="ArgumentException">The name is none of <see cref="Names"/>.</exception>
    public static string Resolve(string device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return device.Trim().ToLowerInvariant() switch
        {
            Auto => CudaBackend.IsCudaAvailable ? Cuda : Cpu,
            Cpu => Cpu,
            Cuda => Cuda,
            _ => throw new ArgumentException($"Unknown device '{device}'; use one of: {string.Join(", ", Names)}.", nameof(device)),
        };
    }
}
