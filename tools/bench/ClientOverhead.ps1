#requires -Version 7.4
<#
.SYNOPSIS
Measures how many requests and tokens per second Invoke-FseBenchmark can drive, against a server that answers instantly.

.DESCRIPTION
Starts the scripted OpenAI-compatible server (the Fse.Bench.Tests assembly run as `serve`) with no delay before or
between tokens, so every millisecond of a request is the client's or the HTTP stack's, then runs Invoke-FseBenchmark:
a request-bound grid (1 output token) and a token-bound grid (256 output tokens, one SSE event each). Client and
server share the machine's cores, so for each point it also reads the CPU time each process used and derives the
client's own cost per request and per token, and the rate the client alone could sustain on all cores
(cores / client CPU time per unit). Prints a table; `build.ps1 Bench` runs it.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleRoot,
    [string] $Configuration = 'Release',
    [int] $Requests = 2000,
    [int] $TokenRequests = 256
)
$ErrorActionPreference = 'Stop'
$env:PSModulePath = $ModuleRoot + [IO.Path]::PathSeparator + $env:PSModulePath
Import-Module Fse
$repo = Split-Path (Split-Path $PSScriptRoot)
$dll = Join-Path $repo "Tests/Fse.Bench.Tests/bin/$Configuration/net10.0/Fse.Bench.Tests.dll"
if (-not (Test-Path $dll)) { throw "$dll is missing: build the solution first (build.ps1 Bench does)." }

$psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
foreach ($a in @($dll, 'serve', '--ttft-ms', '0', '--gap-ms', '0', '--no-tokenize')) { $psi.ArgumentList.Add($a) }
$psi.RedirectStandardOutput = $true; $psi.RedirectStandardInput = $true; $psi.UseShellExecute = $false
$server = [System.Diagnostics.Process]::Start($psi)
$url = ($server.StandardOutput.ReadLine() -split ' ')[1]
$client = [System.Diagnostics.Process]::GetCurrentProcess()
$cores = [Environment]::ProcessorCount

function Measure-Point([int] $Osl, [int] $Mc, [int] $N) {
    $client.Refresh(); $server.Refresh()
    $c0 = $client.TotalProcessorTime.TotalMilliseconds; $s0 = $server.TotalProcessorTime.TotalMilliseconds
    $r = Invoke-FseBenchmark $url -InputLength 32 -OutputLength $Osl -Concurrency $Mc -NumPrompts $N -WarmupRequests $Mc -ProgressAction SilentlyContinue
    $client.Refresh(); $server.Refresh()
    $clientMs = $client.TotalProcessorTime.TotalMilliseconds - $c0
    $serverMs = $server.TotalProcessorTime.TotalMilliseconds - $s0
    $units = if ($Osl -eq 1) { $r.Completed } else { $r.TotalOutputTokens }
    [pscustomobject]@{
        OSL               = $Osl
        MC                = $Mc
        Requests          = $r.Completed
        Failed            = $r.Failed
        'req/s'           = [math]::Round($r.RequestThroughput, 0)
        'out tok/s'       = [math]::Round($r.OutputThroughput, 0)
        'TTFT ms'         = [math]::Round($r.MeanTtftMs, 2)
        'ITL ms'          = [math]::Round($r.MeanItlMs, 3)
        'client CPU %'    = [math]::Round(100 * $clientMs / ($clientMs + $serverMs), 0)
        'client us/unit'  = [math]::Round(1000 * $clientMs / $units, 1)
        'client ceiling/s' = [math]::Round($cores * 1e6 / (1000 * $clientMs / $units), 0)
    }
}

try {
    Write-Host ("Client overhead (dotnet pwsh tools/bench/ClientOverhead.ps1 -ModuleRoot out/): {0} cores, {1}, {2}, pwsh {3}, {4}" -f $cores, [Runtime.InteropServices.RuntimeInformation]::OSDescription,
        [Runtime.InteropServices.RuntimeInformation]::FrameworkDescription, $PSVersionTable.PSVersion, (Get-Date -Format 'yyyy-MM-dd'))
    Write-Host 'Unit: a request for OSL 1 rows, an output token (one SSE event) for the others.'
    $rows = @(
        Measure-Point 1 1 ([math]::Max(200, $Requests / 4))
        Measure-Point 1 16 $Requests
        Measure-Point 1 64 $Requests
        Measure-Point 256 16 $TokenRequests
        Measure-Point 256 64 $TokenRequests
    )
    # A Markdown table, ready for BENCHMARKS.md.
    $names = $rows[0].PSObject.Properties.Name
    Write-Host ('| ' + ($names -join ' | ') + ' |')
    Write-Host ('|' + (($names | ForEach-Object { ' ---: ' }) -join '|') + '|')
    foreach ($row in $rows) { Write-Host ('| ' + (($names | ForEach-Object { $row.$_ }) -join ' | ') + ' |') }
}
finally {
    $server.StandardInput.Close()
    if (-not $server.WaitForExit(5000)) { $server.Kill() }
}
