@{
    RootModule           = 'Fse.Cmdlets.dll'
    # The result and model types, so scripts can name them ([Fse.Bench.FseBenchmarkResult]) before any cmdlet ran.
    RequiredAssemblies   = @('Fse.Kernels.dll', 'Fse.Runtime.dll', 'Fse.Client.dll', 'Fse.Bench.dll', 'Fse.Eval.dll')
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Core')
    GUID                 = '6f0c7a55-3f4e-4c8e-9a59-2d1f3b8f6e41'
    Author               = 'Fse contributors'
    CompanyName          = 'Fse contributors'
    Copyright            = '(c) 2026 Fse contributors. MIT License.'
    Description          = 'Benchmark and evaluate Mixture-of-Experts LLM inference with Fused Shared Expert (FSE) support: an MoE runtime (CUDA through ILGPU, or the CPU) for qwen3_next, qwen2_moe and glm4_moe checkpoints with FSE on or off, an OpenAI-compatible server, and engine-agnostic serving-benchmark and accuracy cmdlets that measure it or any other OpenAI-compatible engine.'
    PowerShellVersion    = '7.6'
    FormatsToProcess     = @('Fse.Bench.format.ps1xml', 'Fse.Eval.format.ps1xml', 'Fse.Models.format.ps1xml', 'Fse.Server.format.ps1xml')
    CmdletsToExport      = @(
        'Compare-FseResult'
        'ConvertFrom-FseToken'
        'ConvertTo-FseToken'
        'Export-FsePlot'
        'Export-FseResult'
        'Get-FseLogits'
        'Get-FseModel'
        'Get-FseServer'
        'Import-FseResult'
        'Invoke-FseAccuracy'
        'Invoke-FseBenchmark'
        'Invoke-FseGenerate'
        'New-FseModel'
        'Start-FseServer'
        'Stop-FseServer'
        'Test-FseParity'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('MoE', 'LLM', 'Inference', 'Benchmark', 'FusedSharedExpert', 'FSE', 'Qwen3-Next', 'vLLM', 'OpenAI', 'CUDA', 'PSEdition_Core', 'Linux')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ProjectUri   = 'https://github.com/fse-project/fse'
            ReleaseNotes = 'See README.md and BENCHMARKS.md.'
        }
    }
}
