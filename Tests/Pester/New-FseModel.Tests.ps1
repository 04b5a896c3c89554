BeforeAll {
    Import-Module Fse -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    function Get-DirectoryHash([string] $dir) {
        Get-ChildItem $dir -File | Sort-Object Name | ForEach-Object { '{0} {1}' -f $_.Name, (Get-FileHash $_.FullName -Algorithm SHA256).Hash }
    }
    function New-TinyTokenizer([string] $dir, [int] $count) {
        $null = New-Item -ItemType Directory -Force $dir
        $vocab = [ordered]@{}
        foreach ($i in 0..($count - 1)) { $vocab["t$i"] = $i }
        @{ version = '1.0'; added_tokens = @(@{ id = $count; content = '<|endoftext|>'; special = $true }); model = @{ type = 'BPE'; vocab = $vocab; merges = @() } } |
            ConvertTo-Json -Depth 5 -Compress | Set-Content (Join-Path $dir 'tokenizer.json')
        '{"eos_token": "<|endoftext|>"}' | Set-Content (Join-Path $dir 'tokenizer_config.json')
        $dir
    }
}

Describe 'New-FseModel' {
    It 'writes <Preset> as a checkpoint that Get-FseModel reads' -ForEach @(
        @{ Preset = 'tiny-qwen3-next'; Architecture = 'qwen3_next'; Layers = 4; Linear = 3; Experts = 16; Slots = 1 }
        @{ Preset = 'tiny-qwen2-moe'; Architecture = 'qwen2_moe'; Layers = 4; Linear = 0; Experts = 8; Slots = 3 }
        @{ Preset = 'tiny-glm4-moe'; Architecture = 'glm4_moe'; Layers = 3; Linear = 0; Experts = 16; Slots = 2 }
    ) {
        $dir = Join-Path $TestDrive $Preset
        $m = New-FseModel -Preset $Preset -Path $dir
        $m | Should -BeOfType ([Fse.Runtime.FseModelInfo])
        $m.Architecture | Should -Be $Architecture
        $m.Layers | Should -Be $Layers
        $m.LinearAttentionLayers | Should -Be $Linear
        $m.Experts | Should -Be $Experts
        $m.SharedExpertSlots | Should -Be $Slots
        $m.DType | Should -Be 'float32'
        $m.HasTokenizer | Should -BeTrue
        # The built-in tokenizer covers exactly the preset's vocabulary and round-trips text.
        $ids = ConvertTo-FseToken -Tokenizer $dir -Text 'Tom has 3 apples and buys 12 more.'
        ($ids | Measure-Object -Maximum).Maximum | Should -BeLessThan $m.VocabSize
        ConvertFrom-FseToken -Tokenizer $dir -TokenIds $ids | Should -Be 'Tom has 3 apples and buys 12 more.'
        Join-Path $dir 'config.json' | Should -Exist
        Join-Path $dir 'model.safetensors' | Should -Exist
        $again = Get-FseModel $dir
        $again.ParameterCount | Should -Be $m.ParameterCount
        # The safetensors data is exactly the parameters in float32 (plus the header).
        (Get-Item (Join-Path $dir 'model.safetensors')).Length | Should -BeGreaterThan ($m.ParameterCount * 4)
        (Get-Item (Join-Path $dir 'model.safetensors')).Length | Should -BeLessThan ($m.ParameterCount * 4 + 65536)
    }

    It 'applies -Layers and -DType and resolves relative paths' {
        Push-Location $TestDrive
        try { $m = New-FseModel tiny-qwen3-next 'rel-8' -Layers 8 -DType bfloat16 }
        finally { Pop-Location }
        $m.Layers | Should -Be 8
        $m.FullAttentionLayers | Should -Be 2
        $m.DType | Should -Be 'bfloat16'
        Join-Path $TestDrive 'rel-8/model.safetensors' | Should -Exist
        (Get-Content -Raw (Join-Path $TestDrive 'rel-8/config.json') | ConvertFrom-Json).torch_dtype | Should -Be 'bfloat16'
    }

    It 'writes nothing with -WhatIf' {
        $dir = Join-Path $TestDrive 'whatif'
        $result = New-FseModel tiny-glm4-moe $dir -WhatIf
        $result | Should -BeNullOrEmpty
        $dir | Should -Not -Exist
    }

    It 'refuses a non-empty directory without -Force and overwrites it with -Force' {
        $dir = Join-Path $TestDrive 'busy'
        $null = New-Item -ItemType Directory -Force $dir
        Set-Content (Join-Path $dir 'notes.txt') 'keep me'
        $result = New-FseModel tiny-qwen2-moe $dir -ErrorVariable errs -ErrorAction SilentlyContinue
        $result | Should -BeNullOrEmpty
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'DirectoryNotEmpty,Fse.Cmdlets.NewFseModelCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        $errs[0].Exception.Message | Should -Match ([regex]::Escape($dir))
        Join-Path $dir 'config.json' | Should -Not -Exist

        (New-FseModel tiny-qwen2-moe $dir -Force).Architecture | Should -Be 'qwen2_moe'
        Join-Path $dir 'notes.txt' | Should -Exist
    }

    It 'rejects an unknown preset name before doing anything' {
        { New-FseModel -Preset 'llama-70b' -Path (Join-Path $TestDrive 'llama') -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,Fse.Cmdlets.NewFseModelCommand'
        Join-Path $TestDrive 'llama' | Should -Not -Exist
    }

    It 'offers exactly the runtime''s presets' {
        $set = (Get-Command New-FseModel).Parameters['Preset'].Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] }
        @($set.ValidValues) | Should -Be @([Fse.Runtime.Presets.ModelPresets]::Names)
    }

    It 'gives identical files for the same seed and different weights for another' {
        $a = Join-Path $TestDrive 'seed-a'; $b = Join-Path $TestDrive 'seed-b'; $c = Join-Path $TestDrive 'seed-c'
        $null = New-FseModel tiny-glm4-moe $a -Seed 42 -DType bfloat16
        $null = New-FseModel tiny-glm4-moe $b -Seed 42 -DType bfloat16
        $null = New-FseModel tiny-glm4-moe $c -Seed 43 -DType bfloat16
        Get-DirectoryHash $b | Should -Be (Get-DirectoryHash $a)
        (Get-FileHash (Join-Path $c 'model.safetensors')).Hash | Should -Not -Be (Get-FileHash (Join-Path $a 'model.safetensors')).Hash
    }

    It 'writes no tokenizer with -NoTokenizer' {
        $dir = Join-Path $TestDrive 'no-tokenizer'
        (New-FseModel -Preset tiny-qwen2-moe -Path $dir -NoTokenizer).HasTokenizer | Should -BeFalse
        Join-Path $dir 'tokenizer.json' | Should -Not -Exist
    }

    It 'copies a tokenizer that fits the vocabulary' {
        $tok = New-TinyTokenizer (Join-Path $TestDrive 'tok-small') 1500
        $dir = Join-Path $TestDrive 'with-tok'
        $m = New-FseModel tiny-qwen3-next $dir -Tokenizer $tok
        $m.HasTokenizer | Should -BeTrue
        Join-Path $dir 'tokenizer_config.json' | Should -Exist
        (Get-FileHash (Join-Path $dir 'tokenizer.json')).Hash | Should -Be (Get-FileHash (Join-Path $tok 'tokenizer.json')).Hash
    }

    It 'refuses a tokenizer larger than the vocabulary before writing weights' {
        $qwen = Join-Path (Get-FseSharedDataPath) 'qwen3-tokenizer/tokenizer.json'
        $dir = Join-Path $TestDrive 'big-tok'
        $result = New-FseModel tiny-qwen2-moe $dir -Tokenizer $qwen -ErrorVariable errs -ErrorAction SilentlyContinue
        $result | Should -BeNullOrEmpty
        $errs[0].FullyQualifiedErrorId | Should -Be 'TokenIdOutOfRange,Fse.Cmdlets.NewFseModelCommand'
        $errs[0].Exception.Message | Should -Match '2048'
        Join-Path $dir 'model.safetensors' | Should -Not -Exist
    }

    It 'reports a missing tokenizer' {
        $result = New-FseModel tiny-qwen2-moe (Join-Path $TestDrive 'no-tok') -Tokenizer (Join-Path $TestDrive 'nowhere') -ErrorVariable errs -ErrorAction SilentlyContinue
        $result | Should -BeNullOrEmpty
        $errs[0].FullyQualifiedErrorId | Should -Be 'CheckpointFileNotFound,Fse.Cmdlets.NewFseModelCommand'
    }

    It 'takes preset names from the pipeline' {
        $dir = Join-Path $TestDrive 'piped'
        $m = 'tiny-qwen3-next' | New-FseModel -Path $dir
        $m.Architecture | Should -Be 'qwen3_next'
    }

    It 'has full help for every parameter' {
        $help = Get-Help New-FseModel -Full
        $help.Synopsis | Should -Match 'random-weight'
        foreach ($p in 'Preset', 'Path', 'Layers', 'Seed', 'DType', 'Tokenizer', 'Force') {
            $help.parameters.parameter.name | Should -Contain $p
        }
        @($help.examples.example).Count | Should -BeGreaterOrEqual 2
    }
}
