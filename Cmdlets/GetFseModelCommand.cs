using System.Management.Automation;
using Fse.Cmdlets.Internal;
using Fse.Runtime;
using Fse.Runtime.Checkpoints;

namespace Fse.Cmdlets;

/// <summary>
/// <para type="synopsis">Reads a Hugging Face MoE checkpoint's config.json and describes its geometry.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "FseModel")]
[OutputType(typeof(FseModelInfo))]
public sealed class GetFseModelCommand : PSCmdlet
{
    /// <summary>Checkpoint directories (holding config.json). Accepts pipeline input, including Get-ChildItem output.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath", "Model")]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (var p in Path)
        {
            var directory = SessionState.Path.GetUnresolvedProviderPathFromPSPath(p);
            try
            {
                WriteObject(FseModelInfo.Load(directory));
            }
            catch (CheckpointException e)
            {
                WriteError(CheckpointErrors.ToErrorRecord(e, p));
            }
        }
    }
}
