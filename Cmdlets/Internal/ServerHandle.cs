namespace Fse.Cmdlets;

/// <summary>What serves behind an <see cref="FseServer"/> handle.</summary>
public enum ServerEngine
{
    /// <summary>fse-server, started from the module folder.</summary>
    Fse,

    /// <summary>Any other OpenAI-compatible engine (vllm serve, sglang, llama-server) started with -Engine External.</summary>
    External,

    /// <summary>A server that was already running; the session only knows its URL (Stop-FseServer forgets it).</summary>
    Attached,
}

/// <summary>
/// A server this PowerShell session started or attached to, as Start-FseServer and Get-FseServer return it. Client
/// cmdlets (Invoke-FseBenchmark, Invoke-FseAccuracy) take it as -Server and read Url, ApiKey, Model, Fse and Device.
/// </summary>
public sealed class FseServer
{
    internal FseServer(int id, ServerEngine engine, string url, Internal.ServerProcess? process)
    {
        Id = id;
        Engine = engine;
        Url = url;
        Process = process;
        StartedAt = DateTime.Now;
    }

    /// <summary>Session-unique number (1, 2, ...).</summary>
    public int Id { get; }

    public ServerEngine Engine { get; }

    /// <summary>The server root, e.g. <c>http://127.0.0.1:8000</c> (no <c>/v1</c>).</summary>
    public string Url { get; internal set; }

    /// <summary>The port of <see cref="Url"/>.</summary>
    public int Port => Uri.TryCreate(Url, UriKind.Absolute, out var u) ? u.Port : 0;

    /// <summary>The served model id (fse-server: the preset or checkpoint; External: what the caller said, else /v1/models).</summary>
    public string? Model { get; internal set; }

    /// <summary>"On" or "Off" when known.</summary>
    public string? Fse { get; internal set; }

    /// <summary>"cpu" or "cuda" (fse-server), or what the caller said.</summary>
    public string? Device { get; internal set; }

    /// <summary>The process id, or null for an attached server.</summary>
    public int? Pid => Process?.Pid;

    /// <summary>The file the server's standard output and error go to, or null for an attached server.</summary>
    public string? LogPath => Process?.LogPath;

    public DateTime StartedAt { get; }

    /// <summary>The API key clients must send (null when none); client cmdlets pick it up from this property.</summary>
    public string? ApiKey { get; internal set; }

    /// <summary>The command line that started it (fse-server or External).</summary>
    public string? CommandLine => Process?.CommandLine;

    /// <summary>Running, Exited (the process ended), Stopped (Stop-FseServer ended it) or Attached.</summary>
    public string Status => Engine == ServerEngine.Attached ? (Forgotten ? "Stopped" : "Attached")
        : Process is { HasExited: true } ? (Stopped ? "Stopped" : "Exited") : "Running";

    /// <summary>The exit code once the process ended.</summary>
    public int? ExitCode => Process is { HasExited: true } p ? p.ExitCode : null;

    internal Internal.ServerProcess? Process { get; }
    internal bool Stopped { get; set; }
    internal bool Forgotten { get; set; }

    public override string ToString() => Url;
}
