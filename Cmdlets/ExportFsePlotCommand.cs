using System.Management.Automation;
using Fse.Bench;

namespace Fse.Cmdlets;

/// <summary>
/// <para type="synopsis">Draws benchmark results as a PNG: output tok/s and TPOT against concurrency, one line per FSE mode and ISL/OSL.</para>
/// </summary>
[Cmdlet(VerbsData.Export, "FsePlot", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportFsePlotCommand : PSCmdlet
{
    private readonly List<FseBenchmarkResult> _results = [];

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public FseBenchmarkResult[] InputObject { get; set; } = [];

    [Parameter]
    [ValidateRange(200, 10000)]
    public int Width { get; set; } = 1400;

    [Parameter]
    [ValidateRange(150, 10000)]
    public int Height { get; set; } = 560;

    [Parameter]
    public string? Title { get; set; }

    protected override void ProcessRecord() => _results.AddRange(InputObject.Where(r => r is not null));

    protected override void EndProcessing()
    {
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        if (_results.Count == 0)
        {
            WriteError(new ErrorRecord(new ArgumentException("No benchmark result was given to plot."), "NothingToPlot", ErrorCategory.InvalidArgument, null));
            return;
        }
        if (!ShouldProcess(path, $"Draw {_results.Count} benchmark results")) return;
        try
        {
            BenchmarkPlot.SavePng(path, _results, Width, Height, Title);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "PlotWriteFailed", ErrorCategory.WriteError, path));
        }
        WriteObject(InvokeProvider.Item.Get([path], force: false, literalPath: true), enumerateCollection: true);   // with the provider's properties, as Get-Item shows it
    }
}
