#requires -Version 7.4
<#
.SYNOPSIS
Runs the Pester suite in this (fresh) pwsh process and writes a pass/fail/skip summary for build.ps1.
#>
param(
    [Parameter(Mandatory)] [string] $PesterModules,
    [Parameter(Mandatory)] [string] $ModuleRoot,
    [Parameter(Mandatory)] [string] $TestPath,
    [Parameter(Mandatory)] [string] $PesterVersion,
    [Parameter(Mandatory)] [string] $SummaryFile,
    [Parameter(Mandatory)] [string] $ResultFile,
    [string] $FullNameFilter,

    # Extra Pester files with container data, as JSON: [{"Path": "Examples/Fse.Regression.Tests.ps1", "Data": {"Tolerance": 1.0}}].
    [string] $ExtraContainersJson = '[]'
)
$ErrorActionPreference = 'Stop'
$sep = [IO.Path]::PathSeparator
$env:PSModulePath = $ModuleRoot + $sep + $PesterModules + $sep + $env:PSModulePath
Import-Module Pester -RequiredVersion $PesterVersion

$config = New-PesterConfiguration
$config.Run.Container = @(New-PesterContainer -Path $TestPath) + @(ConvertFrom-Json $ExtraContainersJson -AsHashtable | ForEach-Object { New-PesterContainer -Path $_.Path -Data $_.Data })
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Normal'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = $ResultFile
if ($FullNameFilter) { $config.Filter.FullName = $FullNameFilter }

$run = Invoke-Pester -Configuration $config
$failed = $run.FailedCount + $run.FailedBlocksCount + $run.FailedContainersCount
[pscustomobject]@{ Passed = $run.PassedCount; Failed = $failed; Skipped = $run.SkippedCount } |
    ConvertTo-Json | Set-Content $SummaryFile
'{0} passed, {1} failed, {2} skipped' -f $run.PassedCount, $failed, $run.SkippedCount
