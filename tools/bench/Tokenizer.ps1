#requires -Version 7.4
<#
.SYNOPSIS
Encoding speed of the Qwen3 tokenizer on GSM8K's 1,319 test questions, through ConvertTo-FseToken (build.ps1 Bench).

.DESCRIPTION
Reads the questions from ../shared/data/gsm8k/test.jsonl and encodes them all with the real Qwen3 tokenizer
(../shared/data/qwen3-tokenizer), -Repeat times, each run one ConvertTo-FseToken invocation that loads the tokenizer
afresh (so its cache starts empty, as a server's does). Reports the first run (the regex and code paths cold) and the
median of the rest, in questions and tokens per second. Absolute numbers on a shared 2-core machine move with its
load; the unit tests only guard against a pathological slow-down.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleRoot,
    [string] $Configuration = 'Release',
    [int] $Repeat = 5
)
$ErrorActionPreference = 'Stop'
$env:PSModulePath = $ModuleRoot + [IO.Path]::PathSeparator + $env:PSModulePath
Import-Module Fse
$repo = Split-Path (Split-Path $PSScriptRoot)
$data = Join-Path (Split-Path $repo) 'shared/data'
$tokenizer = Join-Path $data 'qwen3-tokenizer'
$questions = Get-Content (Join-Path $data 'gsm8k/test.jsonl') | ForEach-Object { ($_ | ConvertFrom-Json).question }
$runs = foreach ($i in 1..$Repeat) {
    $tokens = 0
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $questions | ConvertTo-FseToken -Tokenizer $tokenizer | ForEach-Object { $tokens += $_.Count }
    $clock.Stop()
    [pscustomobject]@{ Run = $i; Seconds = $clock.Elapsed.TotalSeconds; Tokens = $tokens }
}
$warm = $runs | Select-Object -Skip 1 | Sort-Object Seconds
$median = $warm[[int][math]::Floor($warm.Count / 2)]
$rows = foreach ($r in @(@{ Name = 'first (cold)'; Run = $runs[0] }, @{ Name = "median of runs 2-$Repeat"; Run = $median })) {
    [pscustomobject]@{
        Run            = $r.Name
        Seconds        = [math]::Round($r.Run.Seconds, 3)
        'Questions/s'  = [int]($questions.Count / $r.Run.Seconds)
        'Tokens/s'     = [int]($r.Run.Tokens / $r.Run.Seconds)
    }
}
$rows | Format-Table -AutoSize | Out-String | Write-Host
Write-Host ("{0} questions, {1} tokens; CPU: {2} cores, {3}." -f $questions.Count, $runs[0].Tokens, [Environment]::ProcessorCount, [Runtime.InteropServices.RuntimeInformation]::OSDescription)
