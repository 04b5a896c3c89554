using System.Management.Automation;
using Fse.Bench;
using Fse.Cmdlets.Internal;

namespace Fse.Cmdlets;

/// <summary>
/// <para type="synopsis">Writes Fse result objects to a CSV file that Import-FseResult reads back as typed objects.</para>
/// </summary>
[Cmdlet(VerbsData.Export, "FseResult", SupportsShouldProcess = true)]
[OutputType(typeof(FseBenchmarkResult), typeof(Fse.Eval.FseAccuracyResult), typeof(Fse.Eval.FseAccuracyItem))]
public sealed class ExportFseResultCommand : PSCmdlet
{
    private ResultKind? _kind;
    private string _path = "";
    private bool _started;
    private bool _confirmed;
    private bool _wroteOne;

    [Parameter(Mandatory = true, Position = 0)]
    [Alias("LiteralPath")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public PSObject InputObject { get; set; } = null!;

    [Parameter]
    public SwitchParameter Append { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void BeginProcessing() => _path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);

    protected override void ProcessRecord()
    {
        var item = InputObject.BaseObject;
        var kind = ResultKinds.ForObject(item);
        if (kind is null)
        {
            WriteError(new ErrorRecord(new ArgumentException($"A {item.GetType().Name} is not an Fse result ({ResultKinds.KnownTypes})."), "UnsupportedResultType", ErrorCategory.InvalidType, item));
            return;
        }
        if (_kind is not null && _kind != kind)
        {
            WriteError(new ErrorRecord(new ArgumentException($"{_path} holds {_kind.Name} results; a {kind.Name} result cannot go in the same CSV."), "MixedResultTypes", ErrorCategory.InvalidArgument, item));
            return;
        }
        _kind = kind;
        if (!_started)
        {
            _started = true;
            _confirmed = ShouldProcess(_path, Append ? $"Append {kind.Name} results" : $"Write {kind.Name} results");
        }
        if (!_confirmed) return;
        try
        {
            // Row by row, the first one replacing the file unless -Append: a stopped pipeline keeps what was written.
            kind.WriteCsv(_path, [item], Append || _wroteOne);
            _wroteOne = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "ResultFileWriteFailed", ErrorCategory.WriteError, _path));
        }
        if (PassThru) WriteObject(InputObject);
    }
}
