#requires -Version 7.4
<#
.SYNOPSIS
Measures fse-server's CPU throughput on a tiny preset at concurrency 1, 16 and 64, FSE off and on.

.DESCRIPTION
Runs Invoke-FseBenchmark -Model <preset> -Fse Off,On: for each mode a fresh fse-server (the published one under the
module's server folder) is started on the CPU, the grid runs with the same seed, and the server is stopped. Random
prompts of exact length, ignore_eos, streaming with usage, as vllm bench serve. Prints one row per mode and
concurrency: output and total tokens per second, TTFT and TPOT. `build.ps1 Bench` runs it.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleRoot,
    [string] $Configuration = 'Release',
    [string] $Model = 'tiny-qwen3-next',
    [int] $InputLength = 128,
    [int] $OutputLength = 128,
    [int[]] $Concurrency = @(1, 16, 64),
    [int] $PromptsPerConcurrency = 4
)
$ErrorActionPreference = 'Stop'
$env:PSModulePath = $ModuleRoot + [IO.Path]::PathSeparator + $env:PSModulePath
Import-Module Fse

$results = Invoke-FseBenchmark -Model $Model -Fse Off, On -Device Cpu -InputLength $InputLength -OutputLength $OutputLength `
    -Concurrency $Concurrency -PromptsPerConcurrency $PromptsPerConcurrency -WarmupRequests 2 -Seed 1 -ProgressAction SilentlyContinue

"fse-server on $Model, CPU ($([Environment]::ProcessorCount) cores), ISL $InputLength, OSL $OutputLength, $PromptsPerConcurrency requests per unit of concurrency"
$results | Sort-Object Fse, MaxConcurrency | Format-Table -AutoSize @(
    'Fse'
    @{ N = 'MC'; E = { $_.MaxConcurrency } }
    @{ N = 'Requests'; E = { $_.Completed } }
    'Failed'
    @{ N = 'out tok/s'; E = { '{0:N0}' -f $_.OutputThroughput } }
    @{ N = 'total tok/s'; E = { '{0:N0}' -f $_.TotalThroughput } }
    @{ N = 'TTFT ms'; E = { '{0:N1}' -f $_.MeanTtftMs } }
    @{ N = 'TPOT ms'; E = { '{0:N2}' -f $_.MeanTpotMs } }
) | Out-String -Width 200
if (@($results | Where-Object Failed -GT 0).Count -gt 0) { throw 'Some requests failed.' }
