using System.Reflection;
using System.Runtime.InteropServices;

namespace Fse.Bench;

/// <summary>
/// Lets SkiaSharp and HarfBuzzSharp find their native libraries where a published module keeps them
/// (<c>runtimes/&lt;rid&gt;/native/</c> beside the managed assembly). A test host or app finds them through its
/// deps.json; PowerShell loads a module without one, and the default probing only looks beside the assembly.
/// </summary>
internal static class SkiaNativeLibraries
{
    private static int _registered;

    public static void EnsureResolvable()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        foreach (var assembly in new[] { typeof(SkiaSharp.SKCanvas).Assembly, typeof(HarfBuzzSharp.Blob).Assembly })
        {
            try { NativeLibrary.SetDllImportResolver(assembly, Resolve); }
            catch (InvalidOperationException) { }   // the host or the library already set one: it knows best
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (NativeLibrary.TryLoad(name, assembly, searchPath, out var handle)) return handle;
        var dir = Path.GetDirectoryName(assembly.Location);
        if (string.IsNullOrEmpty(dir)) return IntPtr.Zero;
        var native = Path.Combine(dir, "runtimes", Rid(), "native");
        foreach (var file in FileNames(name))
            if (NativeLibrary.TryLoad(Path.Combine(native, file), out handle)) return handle;
        return IntPtr.Zero;
    }

    private static string Rid()
    {
        string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        if (os == "osx") return os;   // SkiaSharp ships one universal macOS library
        return $"{os}-{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}";
    }

    private static IEnumerable<string> FileNames(string name)
    {
        yield return name;
        if (OperatingSystem.IsWindows()) yield return name + ".dll";
        else if (OperatingSystem.IsMacOS()) yield return name + ".dylib";
        else yield return name + ".so";
    }
}
