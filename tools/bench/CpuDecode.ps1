#requires -Version 7.4
<#
.SYNOPSIS
CPU decode speed at batch 1 of the tiny presets, FSE off and on, through Invoke-FseGenerate (build.ps1 Bench).

.DESCRIPTION
Writes each tiny preset once, warms both FSE modes, then generates -Tokens tokens greedily (ignoring EOS) -Repeat
times per mode, alternating the modes, and reports the median decode tokens/s and the on/off ratio. Absolute numbers on a shared 2-core machine move with its
load; quote the ratio.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleRoot,
    [string] $Configuration = 'Release',
    [int] $Tokens = 64,
    [int] $Repeat = 5
)
$ErrorActionPreference = 'Stop'
$env:PSModulePath = $ModuleRoot + [IO.Path]::PathSeparator + $env:PSModulePath
Import-Module Fse
$work = Join-Path ([IO.Path]::GetTempPath()) ("fse-bench-" + [guid]::NewGuid().ToString('N'))
try {
    $rows = foreach ($preset in 'tiny-qwen3-next', 'tiny-qwen2-moe', 'tiny-glm4-moe') {
        $dir = Join-Path $work $preset
        $null = New-FseModel -Preset $preset -Path $dir -NoTokenizer
        $prompt = 1..16
        # Warm both modes (tiered JIT settles after a few hundred calls), then alternate them so drift hits both alike.
        foreach ($fse in 'Off', 'On') { 1..3 | ForEach-Object { $null = Invoke-FseGenerate -Model $dir -TokenIds $prompt -MaxTokens $Tokens -IgnoreEos -Fse $fse } }
        $speeds = @{ Off = @(); On = @() }
        foreach ($i in 1..$Repeat) {
            foreach ($fse in 'Off', 'On') { $speeds[$fse] += (Invoke-FseGenerate -Model $dir -TokenIds $prompt -MaxTokens $Tokens -IgnoreEos -Fse $fse).DecodeTokensPerSecond }
        }
        $median = @{}
        foreach ($fse in 'Off', 'On') { $sorted = $speeds[$fse] | Sort-Object; $median[$fse] = $sorted[[int][math]::Floor($sorted.Count / 2)] }
        [pscustomobject]@{
            Preset          = $preset
            'Off tok/s'     = [math]::Round($median.Off, 1)
            'On tok/s'      = [math]::Round($median.On, 1)
            'On/Off'        = [math]::Round($median.On / $median.Off, 3)
        }
    }
    $rows | Format-Table -AutoSize | Out-String | Write-Host
    Write-Host ("CPU: {0} cores, {1}; {2} tokens after a 16-token prompt, median of {3}." -f [Environment]::ProcessorCount, [Runtime.InteropServices.RuntimeInformation]::OSDescription, $Tokens, $Repeat)
}
finally {
    Remove-Item -Recurse -Force $work -ErrorAction Ignore
}
