#requires -Version 7.4
<#
.SYNOPSIS
The main job on the embedded default model: an FSE off/on serving sweep and accuracy check, with the reference
study's two tables (build.ps1 Demo).

.DESCRIPTION
Serves the trained default model (Module/Models/default, a 3.2M-parameter qwen3_next MoE with a shared expert) with
fse-server, FSE off and then on, on CUDA when a device is present and else on the CPU:
  1. Invoke-FseBenchmark -Model default -Fse Off,On over a small grid (same seed, same prompts for both modes),
     written point by point to results/benchmark.csv, drawn to results/benchmark.png;
  2. Invoke-FseAccuracy -Task arith (held-out arithmetic word problems, gsm8k's template, filters and scoring) against a
     server per mode, written to results/accuracy.csv (and per-item records to results/accuracy-items.csv);
  3. prints Compare-FseResult's benchmark delta table and accuracy table (with McNemar's paired test).
#>
param(
    [Parameter(Mandatory)] [string] $ModuleRoot,
    [string] $OutputDirectory = (Join-Path (Split-Path (Split-Path $PSScriptRoot)) 'results'),
    [ValidateSet('Auto', 'Cpu', 'Cuda')] [string] $Device = 'Auto',
    [int[]] $Concurrency = @(1, 4, 16),
    [int] $InputLength = 128,
    [int] $OutputLength = 64,
    [int] $AccuracyLimit = 200
)
$ErrorActionPreference = 'Stop'
$env:PSModulePath = $ModuleRoot + [IO.Path]::PathSeparator + $env:PSModulePath
Import-Module Fse
$clock = [Diagnostics.Stopwatch]::StartNew()
$null = New-Item -ItemType Directory -Force $OutputDirectory
$benchCsv = Join-Path $OutputDirectory 'benchmark.csv'
$benchPng = Join-Path $OutputDirectory 'benchmark.png'
$accCsv = Join-Path $OutputDirectory 'accuracy.csv'
$itemsCsv = Join-Path $OutputDirectory 'accuracy-items.csv'
Remove-Item -ErrorAction Ignore $benchCsv, $benchPng, $accCsv, $itemsCsv

$model = Get-FseModel (Join-Path (Get-Module Fse).ModuleBase 'models/default')
Write-Host ("Model: default ({0}, {1} layers, {2} experts top-{3} + {4} shared expert of width {5}, {6:N1}M parameters); device {7}" -f `
        $model.Architecture, $model.Layers, $model.Experts, $model.TopK, $model.SharedExperts, $model.SharedExpertWidth, ($model.ParameterCount / 1e6), $Device)

Write-Host "`n== Serving sweep: ISL $InputLength / OSL $OutputLength, concurrency $($Concurrency -join ', '), FSE off then on =="
$sweep = @(Invoke-FseBenchmark -Model default -Fse Off, On -Device $Device -InputLength $InputLength -OutputLength $OutputLength `
        -Concurrency $Concurrency -PromptsPerConcurrency 4 -WarmupRequests 2 -Seed 1 -Label demo -OutFile $benchCsv)
$sweep | Format-Table Fse, InputLength, OutputLength, MaxConcurrency, Completed, Failed, MeanTtftMs, MeanTpotMs, OutputThroughput -AutoSize | Out-String | Write-Host
$null = $sweep | Export-FsePlot -Path $benchPng

Write-Host "== Accuracy: arith, first $AccuracyLimit held-out items, FSE off then on =="
$accuracy = [Collections.Generic.List[object]]::new()
$items = [Collections.Generic.List[object]]::new()
foreach ($mode in 'Off', 'On') {
    $server = Start-FseServer -Model default -Fse $mode -Device $Device
    try {
        foreach ($r in Invoke-FseAccuracy -Server $server -Task arith -Limit $AccuracyLimit -Detailed) {
            if ($r -is [Fse.Eval.FseAccuracyItem]) { $items.Add($r) } else { $accuracy.Add($r) }
        }
    }
    finally { $server | Stop-FseServer }
}
$accuracy | Export-FseResult -Path $accCsv
$items | Export-FseResult -Path $itemsCsv

Write-Host "`n== FSE off -> on: serving =="
$sweep | Compare-FseResult -Format Markdown | Write-Host
Write-Host "`n== FSE off -> on: accuracy (arith, $AccuracyLimit items) =="
@($accuracy) + @($items) | Compare-FseResult -Format Markdown | Write-Host
Write-Host ("`nWrote {0}, {1}, {2} and {3} in {4:N0} s." -f $benchCsv, $benchPng, $accCsv, $itemsCsv, $clock.Elapsed.TotalSeconds)
