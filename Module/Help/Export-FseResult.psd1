@{
    Synopsis    = 'Writes Fse result objects to a CSV file that Import-FseResult reads back as typed objects.'
    Description = @'
Export-FseResult writes result objects (FseBenchmarkResult) to a CSV file with CsvHelper: a header of the property names, invariant-culture numbers written round-trip exact (NaN and Infinity as words), ISO-8601 times with their offsets. Each piped result is written as it arrives, so a stopped pipeline keeps every row already written. Without -Append the file is replaced; with -Append rows are added after the existing ones, which must be results of the same kind.

The objects also work with Export-Csv (their properties are flat); Export-FseResult differs by its culture-independent number and time format, and Import-FseResult restores typed objects from either.
'@
    Parameters  = @{
        Path        = 'The CSV file to write. Relative paths resolve against the current location.'
        InputObject = 'The results to write, from the pipeline. One kind of result per file.'
        Append      = 'Adds the rows after those already in the file (written with a header if the file is new or empty).'
        PassThru    = 'Emits each result after writing it, so the pipeline can go on.'
    }
    Inputs      = @{ 'Fse.Bench.FseBenchmarkResult' = 'Benchmark results.'; 'Fse.Eval.FseAccuracyResult' = 'Accuracy results (columns include Fse, Filter and Score).'; 'Fse.Eval.FseAccuracyItem' = 'Per-item accuracy records.' }
    Outputs     = @{ 'None' = 'Nothing, unless -PassThru.'; 'Fse.Bench.FseBenchmarkResult' = 'The input results, with -PassThru.' }
    Examples    = @(
        @{ Code = 'Invoke-FseBenchmark $s | Export-FseResult -Path sweep.csv -PassThru | Format-Table'; Remarks = 'Writes each grid point as it finishes and shows it.' }
        @{ Code = '$more | Export-FseResult sweep.csv -Append'; Remarks = 'Adds results to an existing file.' }
    )
    Notes       = 'Error ids: UnsupportedResultType and MixedResultTypes (non-terminating, per object), ResultFileWriteFailed (terminating; also when -Append meets a file of other columns). Supports -WhatIf and -Confirm.'
    Links       = @('Import-FseResult', 'Invoke-FseBenchmark')
}
