using System.Management.Automation;
using Fse.Bench;
using Fse.Cmdlets.Internal;

namespace Fse.Cmdlets;

/// <summary>
/// <para type="synopsis">Reads a CSV file of Fse results back into typed result objects, detecting the kind by its header.</para>
/// </summary>
[Cmdlet(VerbsData.Import, "FseResult")]
[OutputType(typeof(FseBenchmarkResult), typeof(Fse.Eval.FseAccuracyResult), typeof(Fse.Eval.FseAccuracyItem))]
public sealed class ImportFseResultCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath")]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (var p in Path)
        {
            IEnumerable<string> files;
            try
            {
                files = SessionState.Path.GetResolvedProviderPathFromPSPath(p, out _);
            }
            catch (ItemNotFoundException e)
            {
                WriteError(new ErrorRecord(e, "ResultFileNotFound", ErrorCategory.ObjectNotFound, p));
                continue;
            }
            foreach (var file in files) Import(file);
        }
    }

    private void Import(string file)
    {
        try
        {
            var header = FseBenchmarkCsv.ReadHeader(file);
            var kind = ResultKinds.ForCsvHeader(header.ToArray());
            if (kind is null)
            {
                WriteError(new ErrorRecord(
                    new InvalidDataException($"{file} is not an Fse result CSV: its header ({string.Join(",", header.Take(6))}…) matches none of {ResultKinds.KnownTypes}."),
                    "UnknownResultCsv", ErrorCategory.InvalidData, file));
                return;
            }
            foreach (var r in kind.ReadCsv(file)) WriteObject(r);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteError(new ErrorRecord(e, "ResultFileReadFailed", ErrorCategory.ReadError, file));
        }
        catch (Exception e) when (e is CsvHelper.CsvHelperException or InvalidDataException)
        {
            WriteError(new ErrorRecord(new InvalidDataException($"{file}: {e.Message.Split('\n')[0]}", e), "MalformedResultCsv", ErrorCategory.InvalidData, file));
        }
    }
}
