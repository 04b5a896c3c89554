<#
.SYNOPSIS
An FSE regression gate for CI pipelines: FSE on must not be slower than FSE off beyond a tolerance at any concurrency,
and FSE on/off accuracy must agree within their standard errors.

.DESCRIPTION
Run it with Pester 5 against a model (a server per FSE mode is started with Start-FseServer) or against two running
servers (any OpenAI-compatible engine: fse-server, vLLM, SGLang). Parameters come from Pester container data or, when
not given, from environment variables:

  Model            FSE_REGRESSION_MODEL        a checkpoint directory, a preset, or 'default' (the default)
  BaselineServer   FSE_REGRESSION_BASELINE     URL of an FSE-off server (with CandidateServer instead of Model)
  CandidateServer  FSE_REGRESSION_CANDIDATE    URL of an FSE-on server
  Device           FSE_REGRESSION_DEVICE       Auto (default), Cpu or Cuda, for -Model
  Tolerance        FSE_REGRESSION_TOLERANCE    how much slower FSE on may be, as a fraction (default 0.10)
  Concurrency      FSE_REGRESSION_CONCURRENCY  comma-separated (default 1,4,16)
  InputLength      FSE_REGRESSION_ISL          default 128
  OutputLength     FSE_REGRESSION_OSL          default 64
  Task             FSE_REGRESSION_TASK         arith (default) or gsm8k (then DataPath / FSE_GSM8K_PATH)
  Limit            FSE_REGRESSION_LIMIT        accuracy items (default 100)

.EXAMPLE
$c = New-PesterContainer -Path ./Examples/Fse.Regression.Tests.ps1 -Data @{ Model = './qwen3-next'; Device = 'Cuda'; Tolerance = 0.05 }
Invoke-Pester -Container $c -Output Detailed

.EXAMPLE
$env:FSE_REGRESSION_BASELINE = 'http://gpu1:8000'; $env:FSE_REGRESSION_CANDIDATE = 'http://gpu2:8000'
Invoke-Pester ./Examples/Fse.Regression.Tests.ps1 -CI
#>
param(
    [string] $Model = $(if ($env:FSE_REGRESSION_MODEL) { $env:FSE_REGRESSION_MODEL } else { 'default' }),
    [string] $BaselineServer = $env:FSE_REGRESSION_BASELINE,
    [string] $CandidateServer = $env:FSE_REGRESSION_CANDIDATE,
    [string] $Device = $(if ($env:FSE_REGRESSION_DEVICE) { $env:FSE_REGRESSION_DEVICE } else { 'Auto' }),
    [double] $Tolerance = $(if ($env:FSE_REGRESSION_TOLERANCE) { [double]$env:FSE_REGRESSION_TOLERANCE } else { 0.10 }),
    [int[]] $Concurrency = $(if ($env:FSE_REGRESSION_CONCURRENCY) { $env:FSE_REGRESSION_CONCURRENCY -split ',' | ForEach-Object { [int]$_ } } else { 1, 4, 16 }),
    [int] $InputLength = $(if ($env:FSE_REGRESSION_ISL) { [int]$env:FSE_REGRESSION_ISL } else { 128 }),
    [int] $OutputLength = $(if ($env:FSE_REGRESSION_OSL) { [int]$env:FSE_REGRESSION_OSL } else { 64 }),
    [string] $Task = $(if ($env:FSE_REGRESSION_TASK) { $env:FSE_REGRESSION_TASK } else { 'arith' }),
    [string] $DataPath = $env:FSE_GSM8K_PATH,
    [int] $Limit = $(if ($env:FSE_REGRESSION_LIMIT) { [int]$env:FSE_REGRESSION_LIMIT } else { 100 })
)

BeforeDiscovery {
    $script:points = $Concurrency
}

BeforeAll {
    Import-Module Fse
    $started = @()
    if ($BaselineServer -and $CandidateServer) {
        $off = $BaselineServer
        $on = $CandidateServer
    }
    else {
        $off = Start-FseServer -Model $Model -Fse Off -Device $Device
        $started += $off
        $on = Start-FseServer -Model $Model -Fse On -Device $Device
        $started += $on
    }
    $grid = @{ InputLength = $InputLength; OutputLength = $OutputLength; Concurrency = $Concurrency; PromptsPerConcurrency = 8; WarmupRequests = 2; Seed = 1 }
    # Alternate the modes and keep each point's better run, so a noisy neighbour hurts neither side alone.
    $runs = foreach ($round in 1..2) {
        Invoke-FseBenchmark -Server $off @grid -Label off
        Invoke-FseBenchmark -Server $on @grid -Label on
    }
    $best = @{}
    foreach ($r in $runs) {
        $key = '{0}/{1}' -f $r.Label, $r.MaxConcurrency
        if (-not $best[$key] -or $r.OutputThroughput -gt $best[$key].OutputThroughput) { $best[$key] = $r }
    }
    $accuracyArgs = @{ Task = $Task; Limit = $Limit }
    if ($Task -eq 'gsm8k' -and $DataPath) { $accuracyArgs.DataPath = $DataPath }
    $accOff = @(Invoke-FseAccuracy -Server $off @accuracyArgs)
    $accOn = @(Invoke-FseAccuracy -Server $on @accuracyArgs)
}

AfterAll {
    $started | Stop-FseServer
}

Describe 'FSE regression gate' {
    It 'serves every request in both modes at concurrency <_>' -ForEach $points {
        $best["off/$_"].Failed | Should -Be 0
        $best["on/$_"].Failed | Should -Be 0
        $best["on/$_"].Completed | Should -BeGreaterThan 0
    }

    It 'FSE on is not slower than FSE off beyond the tolerance at concurrency <_>' -ForEach $points {
        $offTps = $best["off/$_"].OutputThroughput
        $onTps = $best["on/$_"].OutputThroughput
        $onTps | Should -BeGreaterOrEqual ($offTps * (1 - $Tolerance)) -Because "FSE on gave $([math]::Round($onTps, 1)) output tok/s against $([math]::Round($offTps, 1)) with FSE off (tolerance $($Tolerance * 100)%)"
    }

    It 'FSE on and off agree on accuracy within their standard errors (<_>)' -ForEach @('strict-match', 'flexible-extract') {
        $a = $accOff | Where-Object Filter -EQ $_
        $b = $accOn | Where-Object Filter -EQ $_
        $a.N | Should -BeGreaterThan 0
        $b.N | Should -Be $a.N
        $bound = [math]::Max($a.Stderr + $b.Stderr, 1.0 / $a.N)
        [math]::Abs($b.Score - $a.Score) | Should -BeLessOrEqual $bound -Because "FSE off scored $($a.Score) ± $($a.Stderr) and FSE on $($b.Score) ± $($b.Stderr)"
    }
}
