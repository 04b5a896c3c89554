using System.Management.Automation;
using Fse.Bench;
using Fse.Cmdlets.Internal;

namespace Fse.Cmdlets;

/// <summary>How Compare-FseResult emits its comparison.</summary>
public enum ComparisonFormat
{
    /// <summary>One comparison object per paired grid point.</summary>
    Object,

    /// <summary>One string: the Markdown table of SEMANTICS.md.</summary>
    Markdown,
}

/// <summary>
/// <para type="synopsis">Pairs FSE-off (baseline) and FSE-on (candidate) results and reports the change per grid point.</para>
/// </summary>
[Cmdlet(VerbsData.Compare, "FseResult", DefaultParameterSetName = PipelineSet)]
[OutputType(typeof(FseBenchmarkComparison), typeof(Fse.Eval.Comparison.AccuracyComparisonRow), typeof(string))]
public sealed class CompareFseResultCommand : PSCmdlet
{
    private const string PipelineSet = "Pipeline";
    private const string ExplicitSet = "BaselineCandidate";
    private readonly List<object> _piped = [];

    /// <summary>Results of both modes; grouped by their Fse property (Off = baseline, On = candidate).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = PipelineSet)]
    [AllowEmptyCollection]
    public PSObject[] InputObject { get; set; } = [];

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ExplicitSet)]
    public PSObject[] Baseline { get; set; } = [];

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ExplicitSet)]
    public PSObject[] Candidate { get; set; } = [];

    [Parameter]
    public ComparisonFormat Format { get; set; } = ComparisonFormat.Object;

    protected override void ProcessRecord()
    {
        if (ParameterSetName == PipelineSet) _piped.AddRange(InputObject.Where(o => o is not null).Select(o => o.BaseObject));
    }

    protected override void EndProcessing()
    {
        List<object> baseline, candidate;
        ResultKind kind;
        if (ParameterSetName == PipelineSet)
        {
            kind = KindOf(_piped, "InputObject");
            baseline = [];
            candidate = [];
            foreach (var o in _piped)
            {
                var mode = ResultKinds.ForObject(o)!.FseMode(o);
                switch (ServerFacts.NormalizeFse(mode))
                {
                    case "Off": baseline.Add(o); break;
                    case "On": candidate.Add(o); break;
                    default:
                        ThrowTerminatingError(new ErrorRecord(
                            new ArgumentException($"A piped {kind.Name} result has FSE mode '{mode ?? "(none)"}': piped results are grouped by Fse Off (baseline) and On (candidate). Give -Baseline and -Candidate for results without an FSE mode."),
                            "FseModeMissing", ErrorCategory.InvalidData, o));
                        return;
                }
            }
        }
        else
        {
            baseline = [.. Baseline.Where(o => o is not null).Select(o => o.BaseObject)];
            candidate = [.. Candidate.Where(o => o is not null).Select(o => o.BaseObject)];
            kind = KindOf([.. baseline, .. candidate], "Baseline and Candidate");
        }
        if (baseline.Count == 0 || candidate.Count == 0)
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException($"Nothing to compare: {baseline.Count} baseline (FSE off) and {candidate.Count} candidate (FSE on) {kind.Name} results."),
                "NothingToCompare", ErrorCategory.InvalidArgument, null));
        }

        var output = kind.Compare(baseline, candidate);
        foreach (var w in output.Warnings) WriteWarning(w);
        if (Format == ComparisonFormat.Markdown) WriteObject(output.Markdown);
        else foreach (var row in output.Rows) WriteObject(row);
    }

    private ResultKind KindOf(IReadOnlyList<object> items, string parameter)
    {
        var kinds = items.Select(o => (Item: o, Kind: ResultKinds.ForObject(o))).ToList();
        if (kinds.FirstOrDefault(k => k.Kind is null) is { Item: { } unknown })
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException($"{parameter}: a {unknown.GetType().Name} is not a result this cmdlet compares ({ResultKinds.KnownTypes}). Read CSV files with Import-FseResult rather than Import-Csv."),
                "UnsupportedResultType", ErrorCategory.InvalidType, unknown));
        }
        var distinct = kinds.Select(k => k.Kind!).DistinctBy(k => k.FamilyName).ToList();
        if (distinct.Count > 1)
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException($"{parameter} mixes {string.Join(" and ", distinct.Select(k => k.FamilyName))} results: compare one kind at a time."),
                "MixedResultTypes", ErrorCategory.InvalidArgument, null));
        }
        if (distinct.Count == 0)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("No result was given."), "NothingToCompare", ErrorCategory.InvalidArgument, null));
        }
        return distinct[0];
    }
}
