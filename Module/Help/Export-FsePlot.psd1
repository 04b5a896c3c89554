@{
    Synopsis    = 'Draws benchmark results as a PNG: output tok/s and TPOT against concurrency, one line per FSE mode and ISL/OSL.'
    Description = @'
Export-FsePlot collects the piped benchmark results and draws one PNG with two panels against the concurrency cap (a log2 axis with ticks at the measured values): output throughput in tok/s and mean TPOT in ms. Each FSE mode and (input length, output length) pair is one line (FSE off dashed, on solid); when the results hold several labels or request rates, those separate lines too. Rendering is headless (ScottPlot with SkiaSharp), so it works on a server without a display.
'@
    Parameters  = @{
        Path        = 'The PNG file to write; its folder is created if needed.'
        InputObject = 'The benchmark results to draw, from the pipeline.'
        Width       = 'The image width in pixels (default 1400).'
        Height      = 'The image height in pixels (default 560).'
        Title       = 'A title put before each panel''s name.'
    }
    Inputs      = @{ 'Fse.Bench.FseBenchmarkResult' = 'Benchmark results.' }
    Outputs     = @{ 'System.IO.FileInfo' = 'The PNG file written.' }
    Examples    = @(
        @{ Code = 'Import-FseResult off.csv, on.csv | Export-FsePlot -Path sweep.png -Title Qwen3-Next'; Remarks = 'Draws both runs: one line per FSE mode and ISL/OSL pair.' }
    )
    Notes       = 'Error ids: NothingToPlot (non-terminating), PlotWriteFailed (terminating). Supports -WhatIf and -Confirm.'
    Links       = @('Invoke-FseBenchmark', 'Import-FseResult')
}
