#requires -Version 7.4
<#
.SYNOPSIS
Host cost of one temperature / top-p draw over a Qwen-sized vocabulary (151,936 logits), as fse-server pays it per
sampled row of a step that is not greedy (build.ps1 Bench).

.DESCRIPTION
Times Fse.Runtime.Inference.Sampler.Next at temperature 0.7 for top_p 1, 0.95, 0.9 and 0.5 on two rows of logits: a
flat one (uniform in [-10, 10], so the nucleus holds tens of thousands of tokens: the costly case) and a peaked one
(normal with standard deviation 2.5, closer to a language model's). After two seconds of warm-up draws (past the JIT's first
tiers), each case reports the mean of -Draws draws in ms. Greedy rows (temperature 0) never reach the host sampler when the device can take the arg-max.
Absolute numbers on a shared 2-core machine move with its load; quote ratios.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleRoot,
    [string] $Configuration = 'Release',
    [int] $Vocab = 151936,
    [int] $Draws = 50
)
$ErrorActionPreference = 'Stop'
$env:PSModulePath = $ModuleRoot + [IO.Path]::PathSeparator + $env:PSModulePath
Import-Module Fse
$rng = [Random]::new(1)
$flat = [float[]]::new($Vocab)
$peaked = [float[]]::new($Vocab)
for ($i = 0; $i -lt $Vocab; $i++) {
    $flat[$i] = [float]($rng.NextDouble() * 20 - 10)
    $u1 = 1 - $rng.NextDouble(); $u2 = $rng.NextDouble()
    $peaked[$i] = [float](2.5 * [math]::Sqrt(-2 * [math]::Log($u1)) * [math]::Cos(2 * [math]::PI * $u2))
}
# Warm every path past the JIT's first tiers (the vectorised exp is slow until then) before timing any case.
$warm = [Diagnostics.Stopwatch]::StartNew()
while ($warm.Elapsed.TotalSeconds -lt 2) {
    foreach ($topP in 1.0, 0.9) {
        $null = [Fse.Runtime.Inference.Sampler]::new([Fse.Runtime.Inference.SamplingParams]@{ Temperature = 0.7; TopP = $topP; Seed = 1 }).Next($peaked)
    }
}
$rows = foreach ($shape in @(@{ Name = 'flat'; Logits = $flat }, @{ Name = 'peaked'; Logits = $peaked })) {
    foreach ($topP in 1.0, 0.95, 0.9, 0.5) {
        $sampler = [Fse.Runtime.Inference.Sampler]::new([Fse.Runtime.Inference.SamplingParams]@{ Temperature = 0.7; TopP = $topP; Seed = 3 })
        $logits = $shape.Logits
        for ($k = 0; $k -lt 30; $k++) { $null = $sampler.Next($logits) }
        $clock = [Diagnostics.Stopwatch]::StartNew()
        for ($k = 0; $k -lt $Draws; $k++) { $null = $sampler.Next($logits) }
        $clock.Stop()
        [pscustomobject]@{ Logits = $shape.Name; TopP = $topP; 'ms per draw' = [math]::Round($clock.Elapsed.TotalMilliseconds / $Draws, 2) }
    }
}
$rows | Format-Table -AutoSize | Out-String | Write-Host
Write-Host ("{0} logits, temperature 0.7, mean of {1} draws after 30; CPU: {2} cores, {3}." -f $Vocab, $Draws, [Environment]::ProcessorCount, [Runtime.InteropServices.RuntimeInformation]::OSDescription)
