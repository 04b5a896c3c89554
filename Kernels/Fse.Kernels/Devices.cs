using Fse.Kernels.Cpu;

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

    /// <summary>The backend <paramref name="device"/> names: "auto" picks the best this build and machine offer (the CPU today).</summary>
    /// <exception cref="ArgumentException">The name is none of <see cref="Names"/>.</exception>
    /// <exception cref="NotSupportedException">The device is known but this build has no backend for it.</exception>
    public static IBackend Create(string device) => Resolve(device) switch
    {
        Cpu => new CpuBackend(),
        Cuda => throw new NotSupportedException("Device 'cuda' is not available: there is no CUDA backend in this build. Use --device cpu (or auto)."),
        var other => throw new InvalidOperationException($"Device '{other}' has no backend."),
    };

    /// <summary>The concrete device <paramref name="device"/> stands for ("auto" resolved), lower case.</summary>
    /// <exception cref="ArgumentException">The name is none of <see cref="Names"/>.</exception>
    public static string Resolve(string device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return device.Trim().ToLowerInvariant() switch
        {
            Auto => Cpu,
            Cpu => Cpu,
            Cuda => Cuda,
            _ => throw new ArgumentException($"Unknown device '{device}'; use one of: {string.Join(", ", Names)}.", nameof(device)),
        };
    }
}
