BeforeAll {
    Import-Module Fse -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $qwen = Join-Path (Get-FseSharedDataPath) 'qwen3-tokenizer'
}

Describe 'ConvertTo-FseToken' {
    It 'encodes a text to one int[] as Hugging Face does' {
        $ids = ConvertTo-FseToken -Tokenizer $qwen -Text 'Hello world'
        , $ids | Should -BeOfType ([int[]])
        $ids | Should -Be @(9707, 1879)
    }

    It 'writes one int[] per pipeline text, not unrolled' {
        $result = @('Hello world', '', "<|im_start|>user`nhi<|im_end|>") | ConvertTo-FseToken $qwen
        $result.Count | Should -Be 3
        $result[0] | Should -Be @(9707, 1879)
        $result[1].Count | Should -Be 0
        $result[2] | Should -Be @(151644, 872, 198, 6023, 151645)
    }

    It 'takes the tokenizer.json path itself and text by property name' {
        $ids = [pscustomobject]@{ Prompt = 'I''m fine. YOU''RE?' } | ConvertTo-FseToken -Tokenizer (Join-Path $qwen 'tokenizer.json')
        $ids | Should -Be @(40, 2776, 6915, 13, 14985, 94153, 30)
    }

    It 'encodes astral-plane letters and emoji exactly' {
        # The parentheses take the one int[] the cmdlet writes, so Should sees its ids.
        (ConvertTo-FseToken $qwen ([char]::ConvertFromUtf32(0x1D465) + [char]::ConvertFromUtf32(0x1D466))) | Should -Be @(146156, 146325)
        (ConvertTo-FseToken $qwen ([char]::ConvertFromUtf32(0x1F44D) + [char]::ConvertFromUtf32(0x1F3FD))) | Should -Be @(144349, 145375)
    }

    It 'writes <Id> (<Category>) for <Case>' -ForEach @(
        @{ Case = 'a missing folder'; Make = 'none'; Id = 'ModelDirectoryNotFound'; Category = 'ObjectNotFound' }
        @{ Case = 'a folder without tokenizer.json'; Make = 'empty'; Id = 'CheckpointFileNotFound'; Category = 'ObjectNotFound' }
        @{ Case = 'malformed JSON'; Make = 'malformed'; Id = 'MalformedJson'; Category = 'InvalidData' }
        @{ Case = 'an unsupported model'; Make = 'wordpiece'; Id = 'UnknownModelType'; Category = 'NotImplemented' }
    ) {
        $dir = Join-Path $TestDrive ("tok-" + [guid]::NewGuid().ToString('N'))
        if ($Make -ne 'none') { $null = New-Item -ItemType Directory $dir }
        if ($Make -eq 'malformed') { Set-Content (Join-Path $dir 'tokenizer.json') '{"model": {"type": "BPE",' }
        if ($Make -eq 'wordpiece') { Set-Content (Join-Path $dir 'tokenizer.json') '{"model": {"type": "WordPiece", "vocab": {}}}' }
        $err = $null
        try { ConvertTo-FseToken -Tokenizer $dir -Text 'x' } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -Be "$Id,Fse.Cmdlets.ConvertToFseTokenCommand"
        $err.CategoryInfo.Category | Should -Be $Category
        $err.Exception.Message | Should -Match ([regex]::Escape($dir))
    }

    It 'has full help with every parameter and examples' {
        $help = Get-Help ConvertTo-FseToken -Full
        $help.Synopsis | Should -Match 'token ids'
        $help.parameters.parameter.name | Should -Contain 'Tokenizer'
        $help.parameters.parameter.name | Should -Contain 'Text'
        @($help.examples.example).Count | Should -BeGreaterOrEqual 2
    }
}

Describe 'ConvertFrom-FseToken' {
    It 'decodes ids to text' {
        ConvertFrom-FseToken -Tokenizer $qwen -TokenIds 9707, 1879 | Should -BeExactly 'Hello world'
    }

    It 'round-trips texts through the pipeline' {
        $texts = @('héllo 👋', '数学题: 48/2 = 24', "tabs`tand`nnewlines  ", '')
        $back = $texts | ConvertTo-FseToken $qwen | ConvertFrom-FseToken $qwen
        $back | Should -BeExactly $texts
    }

    It 'keeps an array whole with the unary comma and skips special tokens on request' {
        $ids = [int[]](151644, 872, 198, 6023, 151645)
        , $ids | ConvertFrom-FseToken $qwen | Should -BeExactly "<|im_start|>user`nhi<|im_end|>"
        ConvertFrom-FseToken $qwen -TokenIds $ids -SkipSpecialTokens | Should -BeExactly "user`nhi"
    }

    It 'writes a non-terminating TokenIdOutOfRange error naming the id and goes on' {
        $inputs = @([int[]](9707, 151669), [int[]](1879))
        $out = $inputs | ConvertFrom-FseToken $qwen -ErrorVariable errs -ErrorAction SilentlyContinue
        $out | Should -BeExactly ' world'
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'TokenIdOutOfRange,Fse.Cmdlets.ConvertFromFseTokenCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $errs[0].Exception.Message | Should -Match '151669'
    }

    It 'fails with CheckpointFileNotFound for a missing tokenizer.json path' {
        $missing = Join-Path $TestDrive 'nope/tokenizer.json'
        { ConvertFrom-FseToken -Tokenizer $missing -TokenIds 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'CheckpointFileNotFound,Fse.Cmdlets.ConvertFromFseTokenCommand'
    }

    It 'has full help with every parameter and examples' {
        $help = Get-Help ConvertFrom-FseToken -Full
        $help.parameters.parameter.name | Should -Contain 'TokenIds'
        $help.parameters.parameter.name | Should -Contain 'SkipSpecialTokens'
        @($help.examples.example).Count | Should -BeGreaterOrEqual 2
    }

    It 'takes the name of the bundled model as -Tokenizer' {
        $ids = ConvertTo-FseToken -Tokenizer default -Text 'Tom has 12 apples.'
        $ids.Count | Should -BeGreaterThan 3
        ConvertFrom-FseToken -Tokenizer default -TokenIds $ids | Should -Be 'Tom has 12 apples.'
    }

}
