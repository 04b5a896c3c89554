using System.Text;
using System.Text.RegularExpressions;

namespace Fse.Kernels.Cuda;

/// <summary>
/// Programmatic dependent launch (sm_90): inside a recorded step, a kernel whose edge from the previous kernel is
/// programmatic may be launched while that kernel still runs, once every group of it has executed
/// <c>griddepcontrol.launch_dependents</c> (the trigger); it stops at <c>griddepcontrol.wait</c> until the previous grid
/// has finished and its writes are visible. Kernels that stream weights (<see cref="Device.GridDependency"/>) hint their
/// rows into L2 before their wait, so those reads overlap whatever runs before them, and trigger after it: their
/// successor launches during their last wave. Short kernels trigger first, so launches run ahead through a chain of them
/// (a DeltaNet or attention layer's conv, recurrence, attention, gates) to the next weight-streaming kernel, whose hints
/// then overlap that chain, which leaves memory idle. The norms that follow a weight-streaming kernel trigger after their
/// wait (<see cref="Device.TriggerAfterWaitAttribute"/>): otherwise the next projection's hints would compete with the
/// previous one's reads (H100, batch-1 TPOT: every short kernel triggering first 1.329–1.357 ms, every kernel after its
/// wait 1.315–1.341, all but the norms first 1.301–1.323). ILGPU 1.5 targets sm_80 for every device, so the PTX of every kernel is rewritten here
/// before it is loaded: the target raised, and the trigger and the wait placed at the entry of every kernel that does not
/// place its own wait.
/// </summary>
internal static partial class ProgrammaticLaunch
{
    public const string WaitInstruction = "griddepcontrol.wait;";
    public const string TriggerInstruction = "griddepcontrol.launch_dependents;";

    /// <summary>The first architecture with programmatic dependent launch.</summary>
    public const int MinArchitecture = 90;

    [GeneratedRegex(@"^\.target sm_(\d+)", RegexOptions.Multiline)]
    private static partial Regex Target();

    [GeneratedRegex(@"^\.version (\d+)\.(\d+)", RegexOptions.Multiline)]
    private static partial Regex Version();

    /// <summary>
    /// <paramref name="ptx"/> made ready for programmatic launch on an sm_<paramref name="architecture"/> device: target
    /// sm_<paramref name="architecture"/>, and every <c>.entry</c> without its own wait opening with the trigger and the
    /// wait (<paramref name="triggerFirst"/>) or the wait and the trigger. Throws when the PTX has no target line or an
    /// instruction set older than 7.8 (the first with <c>griddepcontrol</c>).
    /// </summary>
    public static string Enable(string ptx, int architecture, bool triggerFirst)
    {
        if (architecture < MinArchitecture) throw new ArgumentOutOfRangeException(nameof(architecture), $"Programmatic launch needs sm_{MinArchitecture} or newer, not sm_{architecture}.");
        var version = Version().Match(ptx);
        if (!version.Success) throw new FormatException("The PTX has no .version line.");
        int major = int.Parse(version.Groups[1].Value), minor = int.Parse(version.Groups[2].Value);
        if (major * 10 + minor < 78) throw new FormatException($"PTX ISA {major}.{minor} has no griddepcontrol (needs 7.8).");
        if (!Target().IsMatch(ptx)) throw new FormatException("The PTX has no .target line.");
        ptx = Target().Replace(ptx, $".target sm_{architecture}", 1);
        return OpenEntries(ptx, triggerFirst);
    }

    /// <summary><paramref name="ptx"/> with every wait and trigger a kernel placed itself removed (devices before sm_90).</summary>
    public static string Disable(string ptx) =>
        ptx.Replace(WaitInstruction, string.Empty, StringComparison.Ordinal).Replace(TriggerInstruction, string.Empty, StringComparison.Ordinal);

    /// <summary>Inserts the trigger and the wait (or the wait and the trigger) after the declarations that open each entry's body.</summary>
    private static string OpenEntries(string ptx, bool triggerFirst)
    {
        var lines = ptx.Split('\n');
        var result = new StringBuilder(ptx.Length + 256);
        for (int i = 0; i < lines.Length; i++)
        {
            result.Append(lines[i]).Append('\n');
            if (!lines[i].TrimStart().StartsWith(".visible .entry", StringComparison.Ordinal) && !lines[i].TrimStart().StartsWith(".entry", StringComparison.Ordinal)) continue;
            int open = i + 1;
            while (open < lines.Length && lines[open].Trim() != "{") result.Append(lines[open++]).Append('\n');
            if (open == lines.Length) throw new FormatException("A PTX .entry has no body.");
            int close = BodyEnd(lines, open);
            bool placesOwnWait = false;
            for (int j = open; j < close && !placesOwnWait; j++) placesOwnWait = lines[j].Contains(WaitInstruction, StringComparison.Ordinal);
            result.Append(lines[open]).Append('\n');
            int body = open + 1;
            while (body < close && IsDeclaration(lines[body])) result.Append(lines[body++]).Append('\n');
            if (!placesOwnWait)
            {
                var (first, second) = triggerFirst ? (TriggerInstruction, WaitInstruction) : (WaitInstruction, TriggerInstruction);
                result.Append('\t').Append(first).Append("\n\t").Append(second).Append('\n');
            }
            i = body - 1;
        }
        result.Length--;
        return result.ToString();
    }

    private static bool IsDeclaration(string line)
    {
        var t = line.TrimStart();
        return t.Length == 0 || t.StartsWith("//", StringComparison.Ordinal) || t.StartsWith(".reg", StringComparison.Ordinal) ||
               t.StartsWith(".shared", StringComparison.Ordinal) || t.StartsWith(".local", StringComparison.Ordinal) ||
               t.StartsWith(".param", StringComparison.Ordinal) || t.StartsWith(".maxntid", StringComparison.Ordinal);
    }

    /// <summary>The line of the brace that closes the block opened at <paramref name="open"/>.</summary>
    private static int BodyEnd(string[] lines, int open)
    {
        int depth = 0;
        for (int j = open; j < lines.Length; j++)
        {
            foreach (char c in lines[j])
            {
                if (c == '{') depth++;
                else if (c == '}' && --depth == 0) return j;
            }
        }
        throw new FormatException("A PTX .entry body is not closed.");
    }
}
