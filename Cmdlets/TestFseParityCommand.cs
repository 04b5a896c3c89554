using System.Management.Automation;
using Fse.Cmdlets.Internal;
using Fse.Runtime;
using Fse.Runtime.Inference;

namespace Fse.Cmdlets;

/// <summary>
/// <para type="synopsis">Checks that a checkpoint computes the same function with FSE on and off.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "FseParity")]
[OutputType(typeof(FseParityResult))]
public sealed class TestFseParityCommand : LocalModelCmdlet
{
    [Parameter]
    [ValidateRange(1, 65536)]
    public int Positions { get; set; } = 32;

    [Parameter]
    public int Seed { get; set; } = 1234;

    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double Tolerance { get; set; } = 1e-4;

    protected override void ProcessRecord()
    {
        var progress = new ProgressRecord(1, "Test-FseParity", $"Loading {Model} with FSE off");
        WriteProgress(progress);
        using var off = OpenModel(FseMode.Off);
        if (off is null) return;
        progress.StatusDescription = "Loading with FSE on";
        WriteProgress(progress);
        using var on = OpenModel(FseMode.On);
        if (on is null) return;
        progress.StatusDescription = $"Comparing {Positions} positions";
        WriteProgress(progress);
        var result = ParityCheck.Run(off.Model, on.Model, Positions, Seed, Tolerance);
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
        WriteObject(result);
    }
}
