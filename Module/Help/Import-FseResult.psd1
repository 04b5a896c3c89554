@{
    Synopsis    = 'Reads a CSV file of Fse results back into typed result objects, detecting the kind by its header.'
    Description = @'
Import-FseResult reads CSV files written by Export-FseResult, by Invoke-FseBenchmark -OutFile, or by Export-Csv from result objects, and emits typed objects (FseBenchmarkResult for benchmark results), so Compare-FseResult, Export-FsePlot and the default table view work on them as on fresh results. The kind of result is detected from the header; columns missing from an older file get default values.
'@
    Parameters  = @{
        Path = 'One or more CSV files; wildcards are expanded. Accepts pipeline input by value and by the property names FullName and PSPath, so Get-ChildItem output can be piped in.'
    }
    Inputs      = @{ 'System.String' = 'A CSV file path.'; 'System.IO.FileInfo' = 'A CSV file, through its FullName property.' }
    Outputs     = @{ 'Fse.Bench.FseBenchmarkResult' = 'One object per row of a benchmark result file.'; 'Fse.Eval.FseAccuracyResult' = 'One object per row of an accuracy result file.'; 'Fse.Eval.FseAccuracyItem' = 'One object per row of a per-item accuracy file.' }
    Examples    = @(
        @{ Code = 'Import-FseResult sweep.csv | Format-Table'; Remarks = 'Shows a saved sweep in the default table view.' }
        @{ Code = 'Get-ChildItem results/*.csv | Import-FseResult | Compare-FseResult -Format Markdown'; Remarks = 'Reads every saved run and prints the FSE off → on table.' }
    )
    Notes       = 'Error ids (non-terminating, per file): ResultFileNotFound, UnknownResultCsv (the header matches no result kind), MalformedResultCsv, ResultFileReadFailed.'
    Links       = @('Export-FseResult', 'Compare-FseResult')
}
