@{
    Synopsis    = 'Pairs FSE-off (baseline) and FSE-on (candidate) benchmark or accuracy results and reports the change.'
    Description = @'
Compare-FseResult pairs baseline and candidate results that measured the same grid point (input length, output length, concurrency and request rate) and emits one FseBenchmarkComparison per pair, in the baseline's order: TPOT mean and p99 in ms, output and total throughput in tok/s, each as baseline, candidate and the change in percent of the baseline.

Give the two sides with -Baseline and -Candidate, or pipe results of both modes: piped results are grouped by their Fse property, Off as the baseline and On as the candidate. A grid point found on one side only, or twice on one side (the later result is used), writes a warning.

-Format Markdown emits one string instead, the table of the project's reference study:
| ISL | OSL | MC | TPOT mean (ms) off → on (Δ) | TPOT p99 | Output tok/s off → on (Δ) | Total tok/s off → on (Δ) |
with a Rate column after MC when a request rate was set.

Accuracy results (FseAccuracyResult from Invoke-FseAccuracy) are paired by task and filter instead, one AccuracyComparisonRow per filter with both scores ± stderr; -Format Markdown then prints the reference study's accuracy table:
| Config | flexible-extract | strict-match |
When the per-item records of both runs (FseAccuracyItem, from Invoke-FseAccuracy -Detailed) are piped in as well, each filter also gets a paired McNemar test over the items both runs scored (exact binomial for fewer than 25 discordant pairs, else chi-square with continuity correction), which says whether the FSE on/off difference is significant. The cmdlet dispatches on the type of its input; benchmark and accuracy results cannot be mixed in one call.
'@
    Parameters  = @{
        InputObject = 'Results of both FSE modes, from the pipeline; grouped by their Fse property (Off = baseline, On = candidate).'
        Baseline    = 'The baseline results (usually FSE off).'
        Candidate   = 'The candidate results (usually FSE on), paired with the baseline by grid point.'
        Format      = 'Object (default) emits comparison objects; Markdown emits the table as one string.'
    }
    Inputs      = @{ 'Fse.Bench.FseBenchmarkResult' = 'Benchmark results of both FSE modes.'; 'Fse.Eval.FseAccuracyResult' = 'Accuracy results of both FSE modes.'; 'Fse.Eval.FseAccuracyItem' = 'Per-item accuracy records, for the paired test.' }
    Outputs     = @{ 'Fse.Bench.FseBenchmarkComparison' = 'One row per paired grid point (default).'; 'Fse.Eval.Comparison.AccuracyComparisonRow' = 'One row per filter for accuracy results.'; 'System.String' = 'The Markdown table, with -Format Markdown.' }
    Examples    = @(
        @{ Code = 'Import-FseResult off.csv, on.csv | Compare-FseResult -Format Markdown'; Remarks = 'Reads both runs and prints the off → on table, grouping by each result''s Fse property.' }
        @{ Code = '$off = Invoke-FseAccuracy -Server $a -Limit 200 -Detailed; $on = Invoke-FseAccuracy -Server $b -Limit 200 -Detailed; $off + $on | Compare-FseResult'; Remarks = 'Compares accuracy of an FSE-off and an FSE-on server per filter, with a McNemar test over the 200 paired items.' }
        @{ Code = 'Compare-FseResult -Baseline $vllm -Candidate $fse | Sort-Object OutputThroughputDeltaPct | Format-Table'; Remarks = 'Compares two result sets that carry no FSE mode (for example two engines) and sorts the rows by the throughput change.' }
    )
    Notes       = 'Error ids (terminating): FseModeMissing (a piped result is neither Off nor On: use -Baseline/-Candidate), UnsupportedResultType (not an Fse result: read CSV files with Import-FseResult, not Import-Csv), MixedResultTypes, NothingToCompare.'
    Links       = @('Invoke-FseBenchmark', 'Import-FseResult', 'about_Fse')
}
