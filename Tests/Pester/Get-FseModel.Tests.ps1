BeforeAll {
    Import-Module Fse -Force
    function New-Checkpoint([string] $name, $json) {
        $dir = Join-Path $TestDrive $name
        $null = New-Item -ItemType Directory -Force $dir
        if ($null -ne $json) { Set-Content -Path (Join-Path $dir 'config.json') -Value $json }
        $dir
    }
    $qwen3Next = @'
{"model_type": "qwen3_next", "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 5120,
 "num_hidden_layers": 48, "num_attention_heads": 16, "num_key_value_heads": 2, "head_dim": 256,
 "full_attention_interval": 4, "num_experts": 512, "num_experts_per_tok": 10, "moe_intermediate_size": 512,
 "shared_expert_intermediate_size": 512, "torch_dtype": "bfloat16", "linear_num_value_heads": 32,
 "linear_num_key_heads": 16, "linear_key_head_dim": 128, "linear_value_head_dim": 128}
'@
    $qwen2Moe = @'
{"model_type": "qwen2_moe", "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 5632,
 "num_hidden_layers": 24, "num_attention_heads": 16, "num_key_value_heads": 16, "num_experts": 60,
 "num_experts_per_tok": 4, "moe_intermediate_size": 1408, "shared_expert_intermediate_size": 5632,
 "torch_dtype": "bfloat16"}
'@
}

Describe 'Get-FseModel' {
    It 'describes a qwen3_next checkpoint as a typed FseModelInfo' {
        $dir = New-Checkpoint 'qwen3-next' $qwen3Next
        $m = Get-FseModel -Path $dir
        $m | Should -BeOfType ([Fse.Runtime.FseModelInfo])
        $m.Name | Should -Be 'qwen3-next'
        $m.Architecture | Should -Be 'qwen3_next'
        $m.Layers | Should -Be 48
        $m.FullAttentionLayers | Should -Be 12
        $m.LinearAttentionLayers | Should -Be 36
        $m.Experts | Should -Be 512
        $m.TopK | Should -Be 10
        $m.SharedExperts | Should -Be 1
        $m.SharedExpertWidth | Should -Be 512
        $m.SharedExpertSlots | Should -Be 1
        $m.HiddenSize | Should -Be 2048
        $m.VocabSize | Should -Be 151936
        $m.DType | Should -Be 'bfloat16'
        $m.Routing | Should -Be 'softmax'
        $m.ParameterCount | Should -BeGreaterThan 79e9
        $m.ParameterCount | Should -BeLessThan 82e9
        $m.Bytes | Should -Be ($m.ParameterCount * 2)  # no fixed-dtype tensors in qwen3_next
        $m.HasTokenizer | Should -BeFalse
    }

    It 'takes directories from the pipeline by value and by property name, resolving relative paths' {
        $a = New-Checkpoint 'a' $qwen3Next
        $b = New-Checkpoint 'b' $qwen2Moe
        Push-Location $TestDrive
        try {
            (@('a', 'b') | Get-FseModel).Architecture | Should -Be @('qwen3_next', 'qwen2_moe')
            (Get-ChildItem $TestDrive -Directory | Where-Object Name -In 'a', 'b' | Get-FseModel).Count | Should -Be 2
        }
        finally { Pop-Location }
        $b | Should -Exist
    }

    It 'shows a default table view' {
        $dir = New-Checkpoint 'view' $qwen2Moe
        $text = Get-FseModel $dir | Out-String
        $text | Should -Match 'Architecture'
        $text | Should -Match 'qwen2_moe'
        $text | Should -Match '1x5632'
    }

    It 'writes <Id> (<Category>) naming the path for <Case>' -ForEach @(
        @{ Case = 'a missing folder'; Json = $null; Make = $false; Id = 'ModelDirectoryNotFound'; Category = 'ObjectNotFound'; Names = '' }
        @{ Case = 'a folder without config.json'; Json = $null; Make = $true; Id = 'CheckpointFileNotFound'; Category = 'ObjectNotFound'; Names = '' }
        @{ Case = 'malformed JSON'; Json = '{"model_type": "qwen2_moe",'; Make = $true; Id = 'MalformedJson'; Category = 'InvalidData'; Names = 'config.json' }
        @{ Case = 'an unknown model_type'; Json = '{"model_type": "llama", "hidden_size": 8}'; Make = $true; Id = 'UnknownModelType'; Category = 'NotImplemented'; Names = 'llama' }
    ) {
        $dir = Join-Path $TestDrive ("bad-" + [guid]::NewGuid().ToString('N'))
        if ($Make) { $null = New-Checkpoint (Split-Path -Leaf $dir) $Json }
        $result = Get-FseModel -Path $dir -ErrorVariable errs -ErrorAction SilentlyContinue
        $result | Should -BeNullOrEmpty
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be "$Id,Fse.Cmdlets.GetFseModelCommand"
        $errs[0].CategoryInfo.Category | Should -Be $Category
        $errs[0].Exception.Message | Should -Match ([regex]::Escape($dir))
        if ($Names) { $errs[0].Exception.Message | Should -Match ([regex]::Escape($Names)) }
    }

    It 'keeps going after a bad directory in a pipeline' {
        $good = New-Checkpoint 'good' $qwen2Moe
        $results = @((Join-Path $TestDrive 'nope'), $good) | Get-FseModel -ErrorVariable errs -ErrorAction SilentlyContinue
        @($results).Count | Should -Be 1
        $errs.Count | Should -Be 1
    }

    It 'has full help with parameters and an example' {
        $help = Get-Help Get-FseModel -Full
        $help.Synopsis | Should -Match 'config.json'
        $help.parameters.parameter.name | Should -Contain 'Path'
        @($help.examples.example).Count | Should -BeGreaterOrEqual 1
        ($help.examples.example[0].code) | Should -Match 'Get-FseModel'
    }
}

Describe 'The Fse module' {
    It 'exports exactly the cmdlets its manifest names' {
        $manifest = Import-PowerShellDataFile (Join-Path (Get-Module Fse).ModuleBase 'Fse.psd1')
        $exported = (Get-Command -Module Fse -CommandType Cmdlet).Name | Sort-Object
        $exported | Should -Be ($manifest.CmdletsToExport | Sort-Object)
    }

    It 'uses approved verbs only' {
        $approved = (Get-Verb).Verb
        foreach ($c in Get-Command -Module Fse) { $c.Verb | Should -BeIn $approved }
    }

    It 'declares an output type on every cmdlet' {
        foreach ($c in Get-Command -Module Fse -CommandType Cmdlet) {
            $c.OutputType.Count | Should -BeGreaterThan 0 -Because "$($c.Name) should say what it emits"
        }
    }
}
