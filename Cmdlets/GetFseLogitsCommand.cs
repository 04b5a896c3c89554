using System.Management.Automation;
using Fse.Cmdlets.Internal;
using Fse.Runtime;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Inference;

namespace Fse.Cmdlets;

/// <summary>
/// <para type="synopsis">Runs a checkpoint over token ids and returns the logits of every position.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "FseLogits")]
[OutputType(typeof(FseLogits))]
public sealed class GetFseLogitsCommand : LocalModelCmdlet
{
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
    [ValidateNotNullOrEmpty]
    public int[] TokenIds { get; set; } = [];

    [Parameter]
    public FseMode Fse { get; set; } = FseMode.On;

    protected override void ProcessRecord()
    {
        using var model = OpenModel(Fse);
        if (model is null) return;
        try
        {
            WriteObject(new FseLogits
            {
                Model = model.Directory,
                Fse = model.Fse.ToString(),
                Device = model.Backend.Name,
                TokenIds = TokenIds,
                Logits = new Generator(model.Model).Logits(TokenIds),
            });
        }
        catch (CheckpointException e)
        {
            WriteError(CheckpointErrors.ToErrorRecord(e, TokenIds));
        }
    }
}
