using System.Diagnostics;
using System.Management.Automation;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Fse.Runtime;

namespace Fse.Cmdlets.Internal;

/// <summary>How to start fse-server (Start-FseServer's default parameter set; also what Invoke-FseBenchmark -Model starts).</summary>
internal sealed record LocalServerSpec
{
    public required string Model { get; init; }
    public FseMode Fse { get; init; } = FseMode.On;
    public string Device { get; init; } = "auto";
    public int Port { get; init; }
    public string BindAddress { get; init; } = "127.0.0.1";
    public string? ApiKey { get; init; }
    public string? ServedModelName { get; init; }
    public int? MaxNumSeqs { get; init; }
    public int? MaxModelLen { get; init; }
    public int? MaxNumBatchedTokens { get; init; }
    public double? GpuMemoryUtilization { get; init; }
    public int? Layers { get; init; }
    public int? Seed { get; init; }
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];
    public string? LogPath { get; init; }
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>How to start another OpenAI-compatible engine (Start-FseServer -Engine External).</summary>
internal sealed record ExternalServerSpec
{
    public required string Command { get; init; }
    public IReadOnlyList<string> Arguments { get; init; } = [];
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();
    public required string Url { get; init; }
    public string? Model { get; init; }
    public string? Fse { get; init; }
    public string? Device { get; init; }
    public string? ApiKey { get; init; }
    public string? LogPath { get; init; }
    public string? WorkingDirectory { get; init; }
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// Starts servers as child processes and waits until they answer, stops them, and attaches to running ones. The
/// waiting runs on the caller's thread and reports through <c>progress</c> there, so a cmdlet can WriteProgress.
/// </summary>
internal static class ServerLauncher
{
    private const string ListeningPrefix = "fse-server listening on ";
    private const string ErrorPrefix = "fse-server: error: ";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>Where Package puts the published fse-server: the <c>server</c> folder beside the module's assembly.</summary>
    public static string ServerDirectory => Path.Combine(Path.GetDirectoryName(typeof(ServerLauncher).Assembly.Location)!, "server");

    public static FseServer StartLocal(LocalServerSpec spec, Action<string>? progress, CancellationToken ct)
    {
        var dll = Path.Combine(ServerDirectory, "fse-server.dll");
        if (!File.Exists(dll))
            throw new ServerStartException($"fse-server is not installed: '{dll}' does not exist (build.ps1 Package publishes it into the module's server folder).",
                "ServerNotInstalled", ErrorCategory.ObjectNotFound);
        var args = new List<string> { dll, "--model", spec.Model, "--fse", spec.Fse == FseMode.On ? "on" : "off", "--device", spec.Device.ToLowerInvariant(),
            "--host", spec.BindAddress, "--port", spec.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--parent-pid", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        void Opt(string name, object? value)
        {
            if (value is null) return;
            args.Add(name);
            args.Add(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!);
        }
        Opt("--served-model-name", spec.ServedModelName);
        Opt("--max-num-seqs", spec.MaxNumSeqs);
        Opt("--max-model-len", spec.MaxModelLen);
        Opt("--max-num-batched-tokens", spec.MaxNumBatchedTokens);
        Opt("--gpu-memory-utilization", spec.GpuMemoryUtilization);
        Opt("--layers", spec.Layers);
        Opt("--seed", spec.Seed);
        args.AddRange(spec.ExtraArguments);

        int id = ServerRegistry.NextId();
        var log = spec.LogPath ?? DefaultLogPath("fse-server", id);
        string? listening = null;
        // The key travels in the environment, not on a command line every user of the machine can read.
        var env = new Dictionary<string, string?> { ["FSE_API_KEY"] = spec.ApiKey };
        var process = Launch(DotnetHost(), args, env, log, null, line =>
        {
            if (line.StartsWith(ListeningPrefix, StringComparison.Ordinal)) Volatile.Write(ref listening, line[ListeningPrefix.Length..].Trim());
        });
        var server = new FseServer(id, ServerEngine.Fse, "", process)
        {
            Model = spec.ServedModelName ?? spec.Model,
            Fse = spec.Fse.ToString(),
            Device = spec.Device.ToLowerInvariant(),
            ApiKey = spec.ApiKey,
        };
        WaitUntilReady(server, process, () => Volatile.Read(ref listening), spec.StartTimeout, "fse-server", progress, ct);
        ReadFacts(server, ct);
        ServerRegistry.Add(server);
        return server;
    }

    public static FseServer StartExternal(ExternalServerSpec spec, Action<string>? progress, CancellationToken ct)
    {
        var url = NormalizeUrl(spec.Url);
        int id = ServerRegistry.NextId();
        var log = spec.LogPath ?? DefaultLogPath(Path.GetFileNameWithoutExtension(spec.Command), id);
        var process = Launch(spec.Command, spec.Arguments, spec.Environment, log, spec.WorkingDirectory, null);
        var server = new FseServer(id, ServerEngine.External, url, process) { Model = spec.Model, Fse = spec.Fse, Device = spec.Device, ApiKey = spec.ApiKey };
        WaitUntilReady(server, process, () => url, spec.StartTimeout, Path.GetFileName(spec.Command), progress, ct);
        ReadFacts(server, ct);
        ServerRegistry.Add(server);
        return server;
    }

    /// <summary>Attaches to a running server: it must answer GET /v1/models (with the key, when one is given).</summary>
    public static FseServer Attach(string url, string? apiKey, string? model, string? fse, string? device, CancellationToken ct)
    {
        var server = new FseServer(ServerRegistry.NextId(), ServerEngine.Attached, NormalizeUrl(url), null) { Model = model, Fse = fse, Device = device, ApiKey = apiKey };
        if (!ReadFacts(server, ct, required: true))
            throw new ServerStartException($"No OpenAI-compatible server answers at {server.Url}/v1/models.", "ServerUnreachable", ErrorCategory.ConnectionError);
        ServerRegistry.Add(server);
        return server;
    }

    /// <summary>Stops a started server (SIGTERM, then a kill after <paramref name="timeout"/>) or forgets an attached one; true when it ended gracefully.</summary>
    public static bool Stop(FseServer server, TimeSpan timeout)
    {
        ServerRegistry.Remove(server);
        if (server.Process is not { } p)
        {
            server.Forgotten = true;
            return true;
        }
        server.Stopped = true;
        bool graceful = p.Stop(timeout);
        p.Dispose();
        return graceful;
    }

    private static ServerProcess Launch(string command, IReadOnlyList<string> args, IReadOnlyDictionary<string, string?> env, string log, string? workingDirectory, Action<string>? onLine)
    {
        try
        {
            return ServerProcess.Start(command, args, env, log, workingDirectory, onLine);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ServerStartException($"Cannot start '{command}': {e.Message}", "ServerStartFailed", ErrorCategory.ObjectNotFound, e);
        }
    }

    private static void WaitUntilReady(FseServer server, ServerProcess process, Func<string?> url, TimeSpan timeout, string what,
        Action<string>? progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                if (process.HasExited)
                    throw new ServerStartException($"{what} exited with code {process.ExitCode} before it was ready: {FailureText(process)} (log: {process.LogPath})",
                        "ServerStartFailed", ErrorCategory.ResourceUnavailable);
                if (url() is { } u)
                {
                    server.Url = NormalizeUrl(u);
                    if (IsHealthy(server, ct)) return;
                }
                if (clock.Elapsed > timeout)
                    throw new ServerStartException($"{what} was not ready after {timeout.TotalSeconds:0} s; it was stopped. Last output: {string.Join(" | ", process.LogTail(5))} (log: {process.LogPath})",
                        "ServerStartTimeout", ErrorCategory.OperationTimeout);
                progress?.Invoke(url() is null ? $"Starting {what}: loading the model ({clock.Elapsed.TotalSeconds:0} s)" : $"Waiting for {server.Url}/health ({clock.Elapsed.TotalSeconds:0} s)");
                ct.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(100));
            }
        }
        catch
        {
            if (!process.HasExited) process.Kill();
            process.Dispose();
            throw;
        }
    }

    /// <summary>fse-server's own error lines from the log, else its last lines.</summary>
    private static string FailureText(ServerProcess process)
    {
        var tail = process.LogTail(40);
        var errors = tail.Where(l => l.StartsWith(ErrorPrefix, StringComparison.Ordinal)).Select(l => l[ErrorPrefix.Length..]).ToArray();
        if (errors.Length > 0) return string.Join(" ", errors);
        var last = tail.TakeLast(6).ToArray();
        return last.Length > 0 ? string.Join(" | ", last) : "it wrote nothing";
    }

    private static bool IsHealthy(FseServer server, CancellationToken ct)
    {
        try
        {
            using var r = Http.Send(new HttpRequestMessage(HttpMethod.Get, server.Url + "/health"), ct);
            return r.IsSuccessStatusCode;
        }
        catch (HttpRequestException) { return false; }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested) { return false; }
    }

    /// <summary>Fills Model, Fse and Device from /v1/models where the handle does not know them (fse-server reports all three).</summary>
    private static bool ReadFacts(FseServer server, CancellationToken ct, bool required = false)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, server.Url + "/v1/models");
            if (server.ApiKey is { } key) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var r = Http.Send(request, ct);
            if (!r.IsSuccessStatusCode)
            {
                if (required) throw new ServerStartException($"{server.Url}/v1/models answered HTTP {(int)r.StatusCode}{(r.StatusCode == System.Net.HttpStatusCode.Unauthorized ? " (give the server's -ApiKey)" : "")}.",
                    "ServerUnreachable", ErrorCategory.ConnectionError);
                return false;
            }
            using var doc = JsonDocument.Parse(r.Content.ReadAsStream(ct));
            if (!doc.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array || data.GetArrayLength() == 0) return !required;
            var m = data[0];
            string? S(string k) => m.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            if (server.Engine == ServerEngine.Fse || server.Model is null) server.Model = S("id") ?? server.Model;
            if (S("fse") is { } f) server.Fse ??= f.Equals("on", StringComparison.OrdinalIgnoreCase) ? "On" : f.Equals("off", StringComparison.OrdinalIgnoreCase) ? "Off" : f;
            if (server.Engine == ServerEngine.Fse) server.Device = S("device") ?? server.Device;
            else server.Device ??= S("device");
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            if (required) throw new ServerStartException($"No OpenAI-compatible server answers at {server.Url}: {e.Message}", "ServerUnreachable", ErrorCategory.ConnectionError, e);
            return false;
        }
    }

    public static string NormalizeUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || (u.Scheme != Uri.UriSchemeHttp && u.Scheme != Uri.UriSchemeHttps))
            throw new ServerStartException($"'{url}' is not an http(s) URL such as http://127.0.0.1:8000.", "InvalidServerUrl", ErrorCategory.InvalidArgument);
        var text = u.GetLeftPart(UriPartial.Path).TrimEnd('/');
        return text.EndsWith("/v1", StringComparison.Ordinal) ? text[..^3] : text;
    }

    private static string DefaultLogPath(string name, int id) =>
        Path.Combine(Path.GetTempPath(), "fse", $"{name}-{Environment.ProcessId}-{id}-{DateTime.Now:yyyyMMdd-HHmmss}.log");

    /// <summary>The dotnet host that runs this session's runtime (fse-server is framework-dependent).</summary>
    private static string DotnetHost()
    {
        string exe = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath)) return hostPath;
        if (Environment.ProcessPath is { } self && Path.GetFileName(self).Equals(exe, StringComparison.OrdinalIgnoreCase)) return self;
        // <root>/shared/Microsoft.NETCore.App/<version>/ → <root>/dotnet
        var runtime = RuntimeEnvironment.GetRuntimeDirectory().TrimEnd(Path.DirectorySeparatorChar);
        var root = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(runtime)));
        if (root is not null && File.Exists(Path.Combine(root, exe))) return Path.Combine(root, exe);
        return exe;
    }
}
