using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Fse.Cmdlets.Internal;

/// <summary>
/// A server child process whose standard output and error are copied line by line into a log file (so it never blocks
/// on a full pipe), with a graceful stop: SIGTERM, then a kill of the whole process tree after a timeout.
/// </summary>
internal sealed partial class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly object _logGate = new();
    private readonly Task _pumps;
    private readonly Action<string>? _onStdoutLine;

    private ServerProcess(Process process, string logPath, string commandLine, Action<string>? onStdoutLine)
    {
        _process = process;
        LogPath = logPath;
        CommandLine = commandLine;
        _onStdoutLine = onStdoutLine;
        _log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite), new UTF8Encoding(false)) { AutoFlush = true };
        Pid = process.Id;
        _pumps = Task.WhenAll(Pump(process.StandardOutput, _onStdoutLine), Pump(process.StandardError, null));
    }

    public int Pid { get; }
    public string LogPath { get; }
    public string CommandLine { get; }

    private int? _exitCode;
    private bool _disposed;

    public bool HasExited
    {
        get
        {
            if (_exitCode is not null) return true;
            try { return _process.HasExited; }
            catch (InvalidOperationException) { return true; }
        }
    }

    /// <summary>The exit code once the process ended (kept after <see cref="Dispose"/>); -1 when unknown.</summary>
    public int ExitCode
    {
        get
        {
            if (_exitCode is { } code) return code;
            if (_disposed) return -1;
            try
            {
                if (!_process.HasExited) throw new InvalidOperationException("The server process is still running.");
                _exitCode = _process.ExitCode;
                return _exitCode.Value;
            }
            catch (InvalidOperationException) when (_process.HasExited) { return -1; }
        }
    }

    /// <summary>Starts <paramref name="fileName"/> with its arguments and extra environment; output goes to <paramref name="logPath"/>.</summary>
    public static ServerProcess Start(string fileName, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?> environment,
        string logPath, string? workingDirectory, Action<string>? onStdoutLine)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment)
        {
            if (v is null) psi.Environment.Remove(k);
            else psi.Environment[k] = v;
        }
        var commandLine = string.Join(' ', new[] { fileName }.Concat(arguments).Select(Quote));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logPath))!);
        File.AppendAllText(logPath, $"# {DateTime.Now:yyyy-MM-dd HH:mm:ss} {commandLine}\n");
        var process = System.Diagnostics.Process.Start(psi) ?? throw new InvalidOperationException($"'{fileName}' did not start.");
        process.StandardInput.Close();   // servers read no input; a closed stdin never blocks them
        return new ServerProcess(process, logPath, commandLine, onStdoutLine);
    }

    private async Task Pump(StreamReader reader, Action<string>? onLine)
    {
        try
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                lock (_logGate) _log.WriteLine(line);
                onLine?.Invoke(line);
            }
        }
        catch (IOException) { }
        catch (ObjectDisposedException) { }
    }

    /// <summary>The last <paramref name="lines"/> lines of the log (after the output pumps caught up, when the process ended).</summary>
    public string[] LogTail(int lines)
    {
        if (HasExited) _pumps.Wait(TimeSpan.FromSeconds(2));
        try
        {
            using var s = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var r = new StreamReader(s);
            var all = r.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return all.Where(l => !l.StartsWith("# ", StringComparison.Ordinal)).TakeLast(lines).Select(l => l.TrimEnd('\r')).ToArray();
        }
        catch (IOException) { return []; }
    }

    public bool WaitForExit(TimeSpan timeout)
    {
        try { return _process.WaitForExit(timeout); }
        catch (InvalidOperationException) { return true; }
    }

    /// <summary>SIGTERM (a graceful stop; on Windows there is none and the tree is killed), then a kill after <paramref name="timeout"/>. Returns true when it ended gracefully.</summary>
    public bool Stop(TimeSpan timeout)
    {
        if (HasExited) return true;
        if (!OperatingSystem.IsWindows() && SysKill(Pid, SigTerm) == 0 && WaitForExit(timeout))
        {
            _pumps.Wait(TimeSpan.FromSeconds(2));
            return true;
        }
        Kill();
        return false;
    }

    public void Kill()
    {
        try { _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
        WaitForExit(TimeSpan.FromSeconds(10));
        _pumps.Wait(TimeSpan.FromSeconds(2));
    }

    public void Dispose()
    {
        if (_disposed) return;
        if (HasExited) _ = ExitCode;   // keep it: the Process object forgets it when disposed
        _pumps.Wait(TimeSpan.FromSeconds(1));
        lock (_logGate) _log.Dispose();
        _disposed = true;
        _process.Dispose();
    }

    private const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);

    private static string Quote(string a) => a.Length > 0 && a.All(c => char.IsLetterOrDigit(c) || "-_./:=@,+".Contains(c)) ? a : "'" + a.Replace("'", "'\\''") + "'";
}
