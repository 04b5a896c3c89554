using System.Management.Automation;
using Fse.Cmdlets.Internal;

namespace Fse.Cmdlets;

/// <summary>
/// <para type="synopsis">Stops servers this session started (SIGTERM, then a kill after a timeout) or forgets attached ones.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "FseServer", DefaultParameterSetName = "Server", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(FseServer))]
public sealed class StopFseServerCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Server", ValueFromPipeline = true)]
    [ValidateNotNull]
    public FseServer[] Server { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = "Id", ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, int.MaxValue)]
    public int[] Id { get; set; } = [];

    /// <summary>Seconds to wait after SIGTERM before the process tree is killed.</summary>
    [Parameter]
    [ValidateRange(0, 3600)]
    public int TimeoutSeconds { get; set; } = 30;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        IEnumerable<FseServer> servers = Server;
        if (ParameterSetName == "Id")
        {
            var found = new List<FseServer>();
            foreach (var id in Id)
            {
                if (ServerRegistry.TryGet(id, out var s)) found.Add(s);
                else WriteError(new ErrorRecord(new ItemNotFoundException($"This session has no server with Id {id}."), "ServerNotFound", ErrorCategory.ObjectNotFound, id));
            }
            servers = found;
        }
        foreach (var s in servers)
        {
            var action = s.Engine == ServerEngine.Attached ? "Forget attached server" : $"Stop server (pid {s.Pid})";
            if (!ShouldProcess($"{s.Engine} server {s.Id} at {s.Url}", action)) continue;
            try
            {
                bool graceful = ServerLauncher.Stop(s, TimeSpan.FromSeconds(TimeoutSeconds));
                if (s.Engine == ServerEngine.Attached) WriteVerbose($"Forgot {s.Url}; the server itself keeps running.");
                else if (!graceful) WriteWarning($"Server {s.Id} (pid {s.Pid}) did not stop within {TimeoutSeconds} s of SIGTERM and was killed.");
                else WriteVerbose($"Server {s.Id} (pid {s.Pid}) stopped with exit code {s.ExitCode}.");
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
            {
                WriteError(new ErrorRecord(e, "ServerStopFailed", ErrorCategory.CloseError, s));
                continue;
            }
            if (PassThru) WriteObject(s);
        }
    }
}
