using System.Collections;
using System.Management.Automation;
using Fse.Cmdlets.Internal;
using Fse.Runtime;

namespace Fse.Cmdlets;

/// <summary>
/// <para type="synopsis">Starts an OpenAI-compatible server (fse-server, or any other engine) as a child process, or attaches to a running one.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "FseServer", DefaultParameterSetName = LocalSet, SupportsShouldProcess = true)]
[OutputType(typeof(FseServer))]
public sealed class StartFseServerCommand : PSCmdlet
{
    private const string LocalSet = "Local";
    private const string ExternalSet = "External";
    private const string AttachSet = "Attach";
    private CancellationTokenSource _stop = new();

    /// <summary>A checkpoint directory or a preset name (fse-server); what an External or attached server serves (recorded).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = LocalSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = ExternalSet)]
    [Parameter(ParameterSetName = AttachSet)]
    [Alias("Path", "FullName")]
    [ValidateNotNullOrEmpty]
    public string Model { get; set; } = "";

    [Parameter(ParameterSetName = LocalSet)]
    [Parameter(ParameterSetName = ExternalSet)]
    [Parameter(ParameterSetName = AttachSet)]
    public FseMode Fse { get; set; } = FseMode.On;

    [Parameter(ParameterSetName = LocalSet)]
    [Parameter(ParameterSetName = ExternalSet)]
    [Parameter(ParameterSetName = AttachSet)]
    [ValidateSet("Auto", "Cpu", "Cuda", IgnoreCase = true)]
    public string Device { get; set; } = "Auto";

    /// <summary>The port fse-server listens on; 0 (the default) picks a free one.</summary>
    [Parameter(ParameterSetName = LocalSet)]
    [ValidateRange(0, 65535)]
    public int Port { get; set; }

    [Parameter(ParameterSetName = LocalSet)]
    [ValidateNotNullOrEmpty]
    public string BindAddress { get; set; } = "127.0.0.1";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ApiKey { get; set; }

    [Parameter(ParameterSetName = LocalSet)]
    [ValidateNotNullOrEmpty]
    public string? ServedModelName { get; set; }

    [Parameter(ParameterSetName = LocalSet)]
    [ValidateRange(1, int.MaxValue)]
    public int MaxNumSeqs { get; set; }

    [Parameter(ParameterSetName = LocalSet)]
    [ValidateRange(2, int.MaxValue)]
    public int MaxModelLen { get; set; }

    [Parameter(ParameterSetName = LocalSet)]
    [ValidateRange(1, int.MaxValue)]
    public int MaxNumBatchedTokens { get; set; }

    /// <summary>On a GPU: the share of its memory fse-server plans weights, states and KV cache with (default 0.9).</summary>
    [Parameter(ParameterSetName = LocalSet)]
    [ValidateRange(0.01, 1.0)]
    public double GpuMemoryUtilization { get; set; }

    [Parameter(ParameterSetName = LocalSet)]
    [ValidateRange(1, int.MaxValue)]
    public int Layers { get; set; }

    [Parameter(ParameterSetName = LocalSet)]
    public int Seed { get; set; }

    /// <summary>fse-server: more command-line options; External: the engine's arguments.</summary>
    [Parameter(ParameterSetName = LocalSet)]
    [Parameter(ParameterSetName = ExternalSet)]
    [AllowEmptyCollection]
    public string[] ArgumentList { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = ExternalSet)]
    public ServerEngine Engine { get; set; } = ServerEngine.Fse;

    [Parameter(Mandatory = true, ParameterSetName = ExternalSet)]
    [ValidateNotNullOrEmpty]
    public string Command { get; set; } = "";

    [Parameter(ParameterSetName = ExternalSet)]
    [ValidateNotNull]
    public Hashtable Environment { get; set; } = [];

    [Parameter(ParameterSetName = ExternalSet)]
    [ValidateNotNullOrEmpty]
    public string? WorkingDirectory { get; set; }

    /// <summary>External: where the engine will listen. Alone: a running server to attach to.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ExternalSet)]
    [Parameter(Mandatory = true, ParameterSetName = AttachSet)]
    [ValidateNotNullOrEmpty]
    public string Url { get; set; } = "";

    [Parameter(ParameterSetName = LocalSet)]
    [Parameter(ParameterSetName = ExternalSet)]
    [ValidateNotNullOrEmpty]
    public string? LogPath { get; set; }

    [Parameter(ParameterSetName = LocalSet)]
    [Parameter(ParameterSetName = ExternalSet)]
    [ValidateRange(1, 86400)]
    public int StartTimeoutSeconds { get; set; }

    protected override void BeginProcessing() => _stop = new CancellationTokenSource();

    protected override void StopProcessing() => _stop.Cancel();

    protected override void ProcessRecord()
    {
        var target = ParameterSetName switch { ExternalSet => Command, AttachSet => Url, _ => Model };
        if (!ShouldProcess(target, ParameterSetName == AttachSet ? "Attach to server" : "Start server")) return;
        try
        {
            var server = ParameterSetName switch
            {
                ExternalSet => StartExternal(),
                AttachSet => ServerLauncher.Attach(Url, ApiKey, Bound(nameof(Model)) ? Model : null, Bound(nameof(Fse)) ? Fse.ToString() : null,
                    Bound(nameof(Device)) ? Device.ToLowerInvariant() : null, _stop.Token),
                _ => StartLocal(),
            };
            WriteObject(server);
        }
        catch (ServerStartException e)
        {
            ThrowTerminatingError(e.ToErrorRecord(target));
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Ctrl+C: the half-started server was killed.
        }
        finally
        {
            WriteProgress(new ProgressRecord(1, "Start-FseServer", "Done") { RecordType = ProgressRecordType.Completed });
        }
    }

    private FseServer StartLocal()
    {
        // A directory (relative or PowerShell path) is resolved; anything else goes to the server as a preset name.
        var resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Model);
        bool isDirectory = Directory.Exists(resolved);
        var model = isDirectory ? resolved : Model;
        if (!isDirectory && (Model.Contains('/') || Model.Contains('\\')))
            throw new ServerStartException($"The model directory '{resolved}' does not exist (and '{Model}' is not a preset name).", "ModelDirectoryNotFound", ErrorCategory.ObjectNotFound);
        var spec = new LocalServerSpec
        {
            Model = model,
            Fse = Fse,
            Device = Device,
            Port = Port,
            BindAddress = BindAddress,
            ApiKey = ApiKey,
            ServedModelName = ServedModelName,
            MaxNumSeqs = Bound(nameof(MaxNumSeqs)) ? MaxNumSeqs : null,
            MaxModelLen = Bound(nameof(MaxModelLen)) ? MaxModelLen : null,
            MaxNumBatchedTokens = Bound(nameof(MaxNumBatchedTokens)) ? MaxNumBatchedTokens : null,
            GpuMemoryUtilization = Bound(nameof(GpuMemoryUtilization)) ? GpuMemoryUtilization : null,
            Layers = Bound(nameof(Layers)) ? Layers : null,
            Seed = Bound(nameof(Seed)) ? Seed : null,
            ExtraArguments = ArgumentList,
            LogPath = LogPath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(LogPath),
            StartTimeout = Bound(nameof(StartTimeoutSeconds)) ? TimeSpan.FromSeconds(StartTimeoutSeconds) : TimeSpan.FromMinutes(5),
        };
        return ServerLauncher.StartLocal(spec, Progress, _stop.Token);
    }

    private FseServer StartExternal()
    {
        if (Engine != ServerEngine.External)
            throw new ServerStartException("-Engine takes External with -Command (fse-server starts with -Model; a running server attaches with -Url alone).",
                "InvalidEngine", ErrorCategory.InvalidArgument);
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment) env[e.Key.ToString()!] = e.Value is null ? null : LanguagePrimitives.ConvertTo<string>(e.Value);
        var spec = new ExternalServerSpec
        {
            Command = ResolveCommand(Command),
            Arguments = ArgumentList,
            Environment = env,
            Url = Url,
            Model = Bound(nameof(Model)) ? Model : null,
            Fse = Bound(nameof(Fse)) ? Fse.ToString() : null,
            Device = Bound(nameof(Device)) ? Device.ToLowerInvariant() : null,
            ApiKey = ApiKey,
            LogPath = LogPath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(LogPath),
            WorkingDirectory = WorkingDirectory is null ? SessionState.Path.CurrentFileSystemLocation.ProviderPath : SessionState.Path.GetUnresolvedProviderPathFromPSPath(WorkingDirectory),
            StartTimeout = Bound(nameof(StartTimeoutSeconds)) ? TimeSpan.FromSeconds(StartTimeoutSeconds) : TimeSpan.FromMinutes(10),
        };
        return ServerLauncher.StartExternal(spec, Progress, _stop.Token);
    }

    /// <summary>A command name found on PATH (as PowerShell finds applications), or a path relative to the current location.</summary>
    private string ResolveCommand(string command)
    {
        var app = InvokeCommand.GetCommand(command, CommandTypes.Application);
        if (app is ApplicationInfo info) return info.Path;
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(command);
        if (File.Exists(path)) return path;
        throw new ServerStartException($"The command '{command}' was not found (neither on PATH nor as a file).", "CommandNotFound", ErrorCategory.ObjectNotFound);
    }

    private void Progress(string status) => WriteProgress(new ProgressRecord(1, "Start-FseServer", status));

    private bool Bound(string name) => MyInvocation.BoundParameters.ContainsKey(name);
}
