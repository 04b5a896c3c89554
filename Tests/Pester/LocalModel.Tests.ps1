BeforeAll {
    Import-Module Fse -Force
    $model = Join-Path $TestDrive 'tiny-qwen3-next'
    $null = New-FseModel -Preset tiny-qwen3-next -Path $model -Seed 5
    $bare = Join-Path $TestDrive 'bare'
    $null = New-FseModel -Preset tiny-glm4-moe -Path $bare -Seed 6 -NoTokenizer
}

Describe 'Get-FseLogits' {
    It 'returns position × vocab logits that are the same with FSE on and off' {
        $on = Get-FseLogits -Model $model -TokenIds 5, 17, 300, 2
        $off = Get-FseLogits -Model $model -TokenIds 5, 17, 300, 2 -Fse Off
        $on | Should -BeOfType ([Fse.Runtime.Inference.FseLogits])
        $on.Positions | Should -Be 4
        $on.VocabSize | Should -Be (Get-FseModel $model).VocabSize
        $on.Fse | Should -Be 'On'
        $off.Fse | Should -Be 'Off'
        for ($p = 0; $p -lt 4; $p++) {
            for ($v = 0; $v -lt 50; $v++) { [math]::Abs($on.Logits[$p][$v] - $off.Logits[$p][$v]) | Should -BeLessThan 1e-3 }
        }
        $on.Argmax | Should -Be $off.Argmax
    }

    It 'names an out-of-range token id' {
        $r = Get-FseLogits -Model $model -TokenIds 1, 99999999 -ErrorVariable errs -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $errs[0].FullyQualifiedErrorId | Should -Be 'TokenIdOutOfRange,Fse.Cmdlets.GetFseLogitsCommand'
        $errs[0].Exception.Message | Should -Match '99999999'
    }

    It 'says why -Device Cuda cannot run on a machine without a GPU' {
        if ([Fse.Kernels.Cuda.CudaBackend]::IsCudaAvailable) { Set-ItResult -Skipped -Because 'this machine has a CUDA device' }
        Get-FseLogits -Model $model -TokenIds 1 -Device Cuda -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'DeviceUnavailable,Fse.Cmdlets.GetFseLogitsCommand'
        $errs[0].Exception.Message | Should -Match 'No CUDA device'
    }

    It 'reports a missing model directory' {
        Get-FseLogits -Model (Join-Path $TestDrive 'nope') -TokenIds 1 -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'ModelDirectoryNotFound,Fse.Cmdlets.GetFseLogitsCommand'
    }
}

Describe 'Invoke-FseGenerate' {
    It 'generates greedily from text, the same tokens with FSE on and off' {
        $on = Invoke-FseGenerate -Model $model -Prompt 'Question: Tom has 3 apples.' -MaxTokens 6 -IgnoreEos
        $off = Invoke-FseGenerate -Model $model -Prompt 'Question: Tom has 3 apples.' -MaxTokens 6 -IgnoreEos -Fse Off
        $on | Should -BeOfType ([Fse.Runtime.Inference.FseGeneration])
        $on.TokenIds.Count | Should -Be 6
        $on.FinishReason | Should -Be 'length'
        $on.TokenIds | Should -Be $off.TokenIds
        $on.Text | Should -Be (ConvertFrom-FseToken -Tokenizer $model -TokenIds $on.TokenIds -SkipSpecialTokens)
        $on.PromptTokenIds | Should -Be (ConvertTo-FseToken -Tokenizer $model -Text 'Question: Tom has 3 apples.')
        $on.PrefillMs | Should -BeGreaterThan 0
    }

    It 'agrees with the argmax of Get-FseLogits' {
        $g = Invoke-FseGenerate -Model $model -TokenIds 7, 8, 9 -MaxTokens 1 -IgnoreEos
        $g.TokenIds[0] | Should -Be (Get-FseLogits -Model $model -TokenIds 7, 8, 9).Argmax[-1]
    }

    It 'samples reproducibly for a seed' {
        $a = Invoke-FseGenerate -Model $model -TokenIds 3, 4 -MaxTokens 8 -Temperature 1.5 -Seed 42 -IgnoreEos
        $b = Invoke-FseGenerate -Model $model -TokenIds 3, 4 -MaxTokens 8 -Temperature 1.5 -Seed 42 -IgnoreEos
        $a.TokenIds | Should -Be $b.TokenIds
    }

    It 'needs -TokenIds for a checkpoint without a tokenizer' {
        Invoke-FseGenerate -Model $bare -Prompt 'hello' -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'CheckpointFileNotFound,Fse.Cmdlets.InvokeFseGenerateCommand'
        (Invoke-FseGenerate -Model $bare -TokenIds 1, 2 -MaxTokens 3 -IgnoreEos).Text | Should -Be ''
    }

    It 'shows a default table view' {
        (Invoke-FseGenerate -Model $model -TokenIds 1, 2 -MaxTokens 2 -IgnoreEos | Out-String) | Should -Match 'Decode tok/s'
    }
}

Describe 'Test-FseParity' {
    It 'passes for each tiny architecture with the shared slots in place' -ForEach @(
        @{ Preset = 'tiny-qwen3-next' }, @{ Preset = 'tiny-qwen2-moe' }, @{ Preset = 'tiny-glm4-moe' }
    ) {
        $dir = Join-Path $TestDrive "parity-$Preset"
        $null = New-FseModel -Preset $Preset -Path $dir -NoTokenizer
        $r = Test-FseParity -Model $dir -Positions 12
        $r | Should -BeOfType ([Fse.Runtime.Inference.FseParityResult])
        $r.Passed | Should -BeTrue
        $r.SharedSlotsCorrect | Should -BeTrue
        $r.MaxRelativeL2 | Should -BeLessThan 1e-4
        $r.ArgmaxAgreement | Should -Be 1
        $r.RoutingAgreement | Should -BeGreaterThan 0.95
    }

    It 'takes checkpoints from Get-ChildItem' {
        $results = @(Get-Item $model | Test-FseParity -Positions 4)
        $results.Count | Should -Be 1
    }
}
