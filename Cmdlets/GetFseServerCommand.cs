using System.Management.Automation;
using Fse.Cmdlets.Internal;

namespace Fse.Cmdlets;

/// <summary>
/// <para type="synopsis">Lists the servers this session started or attached to.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "FseServer", DefaultParameterSetName = "All")]
[OutputType(typeof(FseServer))]
public sealed class GetFseServerCommand : PSCmdlet
{
    [Parameter(Position = 0, ParameterSetName = "Id", ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, int.MaxValue)]
    public int[] Id { get; set; } = [];

    [Parameter(ParameterSetName = "All")]
    [SupportsWildcards]
    public string? Model { get; set; }

    [Parameter(ParameterSetName = "All")]
    public ServerEngine[] Engine { get; set; } = [];

    protected override void ProcessRecord()
    {
        if (ParameterSetName == "Id")
        {
            foreach (var id in Id)
            {
                if (ServerRegistry.TryGet(id, out var s)) WriteObject(s);
                else WriteError(new ErrorRecord(new ItemNotFoundException($"This session has no server with Id {id}."), "ServerNotFound", ErrorCategory.ObjectNotFound, id));
            }
            return;
        }
        var pattern = Model is null ? null : new WildcardPattern(Model, WildcardOptions.IgnoreCase);
        foreach (var s in ServerRegistry.All)
        {
            if (pattern is not null && (s.Model is null || !pattern.IsMatch(s.Model))) continue;
            if (Engine.Length > 0 && !Engine.Contains(s.Engine)) continue;
            WriteObject(s);
        }
    }
}
