@{
    Synopsis    = 'Pairs FSE-off (baseline) and FSE-on (candidate) results and reports the change per grid point.'
    Description = @'
Compare-FseResult pairs baseline and candidate results that measured the same grid point (input length, output length, concurrency and request rate) and emits one FseBenchmarkComparison per pair, in the baseline's order: TPOT mean and p99 in ms, output and total throughput in tok/s, each as baseline, candidate and the change in percent of the baseline.

Give the two sides with -Baseline and -Candidate, or pipe results of both modes: piped results are grouped by their Fse property, Off as the baseline and On as the candidate. A grid point found on one side only, or twice on one side (the later result is used), writes a warning.

-Format Markdown emits one string instead, the table of the project's reference study:
| ISL | OSL | MC | TPOT mean (ms) off → on (Δ) | TPOT p99 | Output tok/s off → on (Δ) | Total tok/s off → on (Δ) |
with a Rate column after MC when a request rate was set.

The cmdlet dispatches on the type of its input; benchmark results (FseBenchmarkResult) are compared now, and other result kinds of the module join the same way.
'@
    Parameters  = @{
        InputObject = 'Results of both FSE modes, from the pipeline; grouped by their Fse property (Off = baseline, On = candidate).'
        Baseline    = 'The baseline results (usually FSE off).'
        Candidate   = 'The candidate results (usually FSE on), paired with the baseline by grid point.'
        Format      = 'Object (default) emits comparison objects; Markdown emits the table as one string.'
    }
    Inputs      = @{ 'Fse.Bench.FseBenchmarkResult' = 'Benchmark results of both FSE modes.' }
    Outputs     = @{ 'Fse.Bench.FseBenchmarkComparison' = 'One row per paired grid point (default).'; 'System.String' = 'The Markdown table, with -Format Markdown.' }
    Examples    = @(
        @{ Code = 'Import-FseResult off.csv, on.csv | Compare-FseResult -Format Markdown'; Remarks = 'Reads both runs and prints the off → on table, grouping by each result''s Fse property.' }
        @{ Code = 'Compare-FseResult -Baseline $vllm -Candidate $fse | Sort-Object OutputThroughputDeltaPct | Format-Table'; Remarks = 'Compares two result sets that carry no FSE mode (for example two engines) and sorts the rows by the throughput change.' }
    )
    Notes       = 'Error ids (terminating): FseModeMissing (a piped result is neither Off nor On: use -Baseline/-Candidate), UnsupportedResultType (not an Fse result: read CSV files with Import-FseResult, not Import-Csv), MixedResultTypes, NothingToCompare.'
    Links       = @('Invoke-FseBenchmark', 'Import-FseResult', 'about_Fse')
}
