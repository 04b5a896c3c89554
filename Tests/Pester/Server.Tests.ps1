# Start-FseServer, Get-FseServer and Stop-FseServer against the real fse-server (published under the module's server
# folder) on a tiny preset on the CPU, and against a small Python stand-in engine (openai_standin.py) for -Engine
# External and -Url. Also runs Invoke-FseBenchmark and Invoke-FseAccuracy against fse-server.
BeforeAll {
    Import-Module Fse -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:standin = Join-Path $PSScriptRoot 'openai_standin.py'
    $script:python = (Get-Command python3 -CommandType Application -ErrorAction Stop | Select-Object -First 1).Source

    function Get-FreePort {
        $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $l.Start()
        try { $l.LocalEndpoint.Port } finally { $l.Stop() }
    }

    function Test-ProcessAlive([int] $Id) {
        $p = Get-Process -Id $Id -ErrorAction Ignore
        $null -ne $p -and -not $p.HasExited
    }

    function Wait-Until([scriptblock] $Condition, [int] $Seconds = 15) {
        $until = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $until) { return $false }
            Start-Sleep -Milliseconds 100
        }
        $true
    }

    # Runs a script in a fresh pwsh (the module comes from PSModulePath, as here) and returns its output lines.
    function Invoke-ChildPwsh([string] $Script) {
        $dll = Join-Path $PSHOME 'pwsh.dll'
        if (Test-Path $dll) { & ([Environment]::ProcessPath) $dll -NoProfile -NonInteractive -Command $Script }
        else { & (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -Command $Script }
    }

    $script:tiny = @{ Model = 'tiny-qwen3-next'; MaxModelLen = 1024; StartTimeoutSeconds = 120 }
}

AfterAll {
    Get-FseServer | Stop-FseServer -TimeoutSeconds 5
}

Describe 'Start-FseServer (fse-server)' {
    It 'starts on a free port, serves a request, and stops gracefully' {
        $s = Start-FseServer @tiny -Fse Off
        try {
            $s | Should -BeOfType ([Fse.Cmdlets.FseServer])
            $s.Engine | Should -Be 'Fse'
            $s.Url | Should -Match '^http://127\.0\.0\.1:\d+$'
            $s.Port | Should -BeGreaterThan 0
            $s.Model | Should -Be 'tiny-qwen3-next'
            $s.Fse | Should -Be 'Off'
            $s.Device | Should -Be 'cpu'
            $s.Status | Should -Be 'Running'
            $s.ApiKey | Should -BeNullOrEmpty
            Test-ProcessAlive $s.Pid | Should -BeTrue
            Test-Path $s.LogPath | Should -BeTrue
            $s.StartedAt | Should -BeLessOrEqual (Get-Date)

            $models = Invoke-RestMethod "$($s.Url)/v1/models"
            $models.data[0].fse | Should -Be 'off'
            $body = @{ model = 'tiny-qwen3-next'; prompt = 'Natalia sold clips'; max_tokens = 5; ignore_eos = $true } | ConvertTo-Json
            $r = Invoke-RestMethod "$($s.Url)/v1/completions" -Method Post -Body $body -ContentType 'application/json'
            $r.usage.completion_tokens | Should -Be 5
            (Get-FseServer -Id $s.Id).Url | Should -Be $s.Url
        }
        finally {
            Stop-FseServer $s
        }
        $s.Status | Should -Be 'Stopped'
        $s.ExitCode | Should -Be 0
        Test-ProcessAlive $s.Pid | Should -BeFalse
        Get-FseServer | Where-Object Id -EQ $s.Id | Should -BeNullOrEmpty
        Get-Content $s.LogPath -Raw | Should -Match 'fse-server listening on'
    }

    It 'requires its API key on /v1 but not on /health, and client cmdlets send it' {
        $s = Start-FseServer @tiny -ApiKey 'pester-key' -Port (Get-FreePort)
        try {
            $s.ApiKey | Should -Be 'pester-key'
            (Invoke-WebRequest "$($s.Url)/health").StatusCode | Should -Be 200
            $e = { Invoke-RestMethod "$($s.Url)/v1/models" } | Should -Throw -PassThru
            [int]$e.Exception.Response.StatusCode | Should -Be 401
            ($e.ErrorDetails.Message | ConvertFrom-Json).error.type | Should -Be 'authentication_error'
            (Invoke-RestMethod "$($s.Url)/v1/models" -Headers @{ Authorization = 'Bearer pester-key' }).data[0].id | Should -Be 'tiny-qwen3-next'
            (Get-Content $s.LogPath -Raw) | Should -Not -Match 'pester-key'
            $r = Invoke-FseBenchmark -Server $s -InputLength 16 -OutputLength 4 -Concurrency 2 -NumPrompts 4
            $r.Completed | Should -Be 4
            $r.Failed | Should -Be 0
            $r.Fse | Should -Be 'On'
            $r.Device | Should -Be 'cpu'
        }
        finally { Stop-FseServer $s }
    }

    It 'reports a port in use with the server''s own error text' {
        $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $l.Start()
        try {
            $port = $l.LocalEndpoint.Port
            $e = { Start-FseServer @tiny -Port $port } | Should -Throw -ErrorId 'ServerStartFailed,Fse.Cmdlets.StartFseServerCommand' -PassThru
            $e.Exception.Message | Should -Match "cannot listen on 127\.0\.0\.1:$port"
            $e.Exception.Message | Should -Match 'address already in use'
        }
        finally { $l.Stop() }
        Get-FseServer | Where-Object Port -EQ $port | Should -BeNullOrEmpty
    }

    It 'refuses a model path that does not exist' {
        { Start-FseServer -Model ./no/such/checkpoint } | Should -Throw -ErrorId 'ModelDirectoryNotFound,Fse.Cmdlets.StartFseServerCommand'
    }

    It 'surfaces the server''s error for a directory that is not a checkpoint and for an unknown preset' {
        $empty = Join-Path $TestDrive 'not-a-checkpoint'
        $null = New-Item -ItemType Directory $empty
        $e = { Start-FseServer -Model $empty } | Should -Throw -ErrorId 'ServerStartFailed,Fse.Cmdlets.StartFseServerCommand' -PassThru
        $e.Exception.Message | Should -Match 'exited with code 1'
        $e.Exception.Message | Should -Match 'config\.json'
        $e = { Start-FseServer -Model 'no-such-preset' } | Should -Throw -ErrorId 'ServerStartFailed,Fse.Cmdlets.StartFseServerCommand' -PassThru
        $e.Exception.Message | Should -Match 'neither a checkpoint directory'
        $e = { Start-FseServer @tiny -Device Cuda } | Should -Throw -ErrorId 'ServerStartFailed,Fse.Cmdlets.StartFseServerCommand' -PassThru
        $e.Exception.Message | Should -Match 'No CUDA device'
    }

    It 'serves a checkpoint directory piped from Get-FseModel' {
        $dir = Join-Path $TestDrive 'tiny-glm'
        $null = New-FseModel -Preset tiny-glm4-moe -Path $dir -Seed 3
        $s = Get-FseModel $dir | Start-FseServer -Fse On -ServedModelName 'glm-test' -MaxModelLen 256
        try {
            $s.Model | Should -Be 'glm-test'
            $m = (Invoke-RestMethod "$($s.Url)/v1/models").data[0]
            $m.root | Should -Be (Resolve-Path $dir).Path
            $m.model_type | Should -Be 'glm4_moe'
            # No tokenizer files: token-id prompts only.
            $r = Invoke-RestMethod "$($s.Url)/v1/completions" -Method Post -ContentType 'application/json' -Body '{"prompt": [1, 2, 3], "max_tokens": 2, "ignore_eos": true}'
            $r.usage.completion_tokens | Should -Be 2
        }
        finally { $s | Stop-FseServer }
    }

    It 'does nothing with -WhatIf' {
        $before = @(Get-FseServer).Count
        Start-FseServer @tiny -WhatIf | Should -BeNullOrEmpty
        @(Get-FseServer).Count | Should -Be $before
    }
}

Describe 'Get-FseServer and Stop-FseServer' {
    It 'stops servers from the pipeline, honours -WhatIf, and filters' {
        $a = Start-FseServer @tiny -Fse On
        $b = Start-FseServer @tiny -Fse Off -ServedModelName 'second-model'
        try {
            $ids = (Get-FseServer).Id
            $ids | Should -Contain $a.Id
            $ids | Should -Contain $b.Id
            (Get-FseServer -Model 'second*').Id | Should -Be $b.Id
            (Get-FseServer -Engine Fse).Count | Should -BeGreaterOrEqual 2
            { Get-FseServer -Id 99999 -ErrorAction Stop } | Should -Throw -ErrorId 'ServerNotFound,Fse.Cmdlets.GetFseServerCommand'

            Get-FseServer | Stop-FseServer -WhatIf
            Test-ProcessAlive $a.Pid | Should -BeTrue
            Test-ProcessAlive $b.Pid | Should -BeTrue
            $a.Status | Should -Be 'Running'

            $stopped = $a, $b | Stop-FseServer -PassThru
            $stopped.Count | Should -Be 2
            $stopped.Status | Should -Be @('Stopped', 'Stopped')
            Test-ProcessAlive $a.Pid | Should -BeFalse
            Test-ProcessAlive $b.Pid | Should -BeFalse
            Get-FseServer | Where-Object { $_.Id -in $a.Id, $b.Id } | Should -BeNullOrEmpty
        }
        finally { Get-FseServer | Where-Object { $_.Id -in $a.Id, $b.Id } | Stop-FseServer -TimeoutSeconds 5 }
    }

    It 'stops by -Id' {
        $s = Start-FseServer @tiny
        Stop-FseServer -Id $s.Id
        Test-ProcessAlive $s.Pid | Should -BeFalse
        { Stop-FseServer -Id $s.Id -ErrorAction Stop } | Should -Throw -ErrorId 'ServerNotFound,Fse.Cmdlets.StopFseServerCommand'
    }

    It 'stops the servers of a session when the module is removed and when pwsh exits' {
        $out = Invoke-ChildPwsh @'
Import-Module Fse
$a = Start-FseServer -Model tiny-qwen3-next -MaxModelLen 256
$b = Start-FseServer -Model tiny-qwen3-next -MaxModelLen 256
"A=$($a.Pid)"
Remove-Module Fse
"REMOVED=$(if (Get-Process -Id $a.Pid -ErrorAction Ignore) { 'alive' } else { 'gone' })"
Import-Module Fse
$c = Start-FseServer -Model tiny-qwen3-next -MaxModelLen 256
"C=$($c.Pid)"
exit 0
'@
        $text = $out -join "`n"
        $text | Should -Match 'REMOVED=gone'
        $c = [int]([regex]::Match($text, 'C=(\d+)').Groups[1].Value)
        $c | Should -BeGreaterThan 0
        Wait-Until { -not (Test-ProcessAlive $c) } | Should -BeTrue -Because 'the server started by an exited pwsh must stop'
    }
}

Describe 'Start-FseServer -Engine External and -Url' {
    It 'starts another engine with its environment, reads its facts, and stops it with SIGTERM' {
        $port = Get-FreePort
        $s = Start-FseServer -Engine External -Command python3 -ArgumentList $standin, '--port', $port, '--startup-delay', '0.5' `
            -Environment @{ VLLM_ROCM_USE_AITER_FUSION_SHARED_EXPERTS = '1' } -Url "http://127.0.0.1:$port/v1" -Device Cuda
        try {
            $s.Engine | Should -Be 'External'
            $s.Url | Should -Be "http://127.0.0.1:$port"
            $s.Model | Should -Be 'standin-moe'
            $s.Fse | Should -Be 'On'
            $s.Device | Should -Be 'cuda'
            $s.CommandLine | Should -Match 'openai_standin\.py'
            Test-ProcessAlive $s.Pid | Should -BeTrue
            $r = Invoke-FseBenchmark -Server $s -InputLength 8 -OutputLength 6 -Concurrency 2 -NumPrompts 4 -VocabSize 100
            $r.Completed | Should -Be 4
            $r.Model | Should -Be 'standin-moe'
        }
        finally { Stop-FseServer $s -TimeoutSeconds 10 }
        $s.ExitCode | Should -Be 0
        Get-Content $s.LogPath -Raw | Should -Match 'SIGTERM, shutting down'
    }

    It 'kills an engine that ignores SIGTERM after the timeout, with a warning' {
        $port = Get-FreePort
        $s = Start-FseServer -Engine External -Command $python -ArgumentList $standin, '--port', $port, '--ignore-sigterm' -Url "http://127.0.0.1:$port"
        Stop-FseServer $s -TimeoutSeconds 1 -WarningVariable w -WarningAction SilentlyContinue
        $w | Should -Match 'killed'
        Test-ProcessAlive $s.Pid | Should -BeFalse
    }

    It 'surfaces the engine''s error when it exits before it is ready' {
        $port = Get-FreePort
        $e = { Start-FseServer -Engine External -Command python3 -ArgumentList $standin, '--port', $port, '--fail', 'CUDA out of memory' -Url "http://127.0.0.1:$port" } |
            Should -Throw -ErrorId 'ServerStartFailed,Fse.Cmdlets.StartFseServerCommand' -PassThru
        $e.Exception.Message | Should -Match 'exited with code 3'
        $e.Exception.Message | Should -Match 'CUDA out of memory'
        { Start-FseServer -Engine External -Command no-such-engine-xyz -Url "http://127.0.0.1:$port" } | Should -Throw -ErrorId 'CommandNotFound,Fse.Cmdlets.StartFseServerCommand'
    }

    It 'attaches to a running server with -Url; Stop-FseServer only forgets it' {
        $port = Get-FreePort
        $psi = [System.Diagnostics.ProcessStartInfo]::new($python)
        foreach ($a in $standin, '--port', $port, '--api-key', 'k1') { $psi.ArgumentList.Add([string]$a) }
        $psi.RedirectStandardOutput = $true
        $psi.UseShellExecute = $false
        $p = [System.Diagnostics.Process]::Start($psi)
        try {
            Wait-Until { try { (Invoke-WebRequest "http://127.0.0.1:$port/health" -TimeoutSec 1).StatusCode -eq 200 } catch { $false } } | Should -BeTrue
            { Start-FseServer -Url "http://127.0.0.1:$port" } | Should -Throw -ErrorId 'ServerUnreachable,Fse.Cmdlets.StartFseServerCommand'
            $s = Start-FseServer -Url "http://127.0.0.1:$port" -ApiKey k1 -Fse Off
            $s.Engine | Should -Be 'Attached'
            $s.Model | Should -Be 'standin-moe'
            $s.Fse | Should -Be 'Off'
            $s.Pid | Should -BeNullOrEmpty
            $s.Status | Should -Be 'Attached'
            (Get-FseServer -Engine Attached).Id | Should -Contain $s.Id
            Stop-FseServer $s
            $s.Status | Should -Be 'Stopped'
            $p.HasExited | Should -BeFalse
            (Invoke-WebRequest "http://127.0.0.1:$port/health").StatusCode | Should -Be 200
            { Start-FseServer -Url "http://127.0.0.1:$(Get-FreePort)" } | Should -Throw -ErrorId 'ServerUnreachable,Fse.Cmdlets.StartFseServerCommand'
        }
        finally { if (-not $p.HasExited) { $p.Kill() } }
    }
}

Describe 'Benchmark and accuracy against fse-server' {
    It 'runs a 2x2 grid with FSE off and on, starting one server per mode' {
        $csv = Join-Path $TestDrive 'grid.csv'
        $results = Invoke-FseBenchmark -Model tiny-qwen3-next -Fse Off, On -InputLength 24, 48 -OutputLength 8 -Concurrency 1, 4 -NumPrompts 4 -Seed 7 `
            -ServerArgumentList '--max-model-len', '512' -OutFile $csv
        $results.Count | Should -Be 8
        ($results | Where-Object Fse -EQ 'Off').Count | Should -Be 4
        ($results | Where-Object Fse -EQ 'On').Count | Should -Be 4
        $results | ForEach-Object {
            $_.Completed | Should -Be 4
            $_.Failed | Should -Be 0
            $_.TotalOutputTokens | Should -Be 32
            $_.Model | Should -Be 'tiny-qwen3-next'
            $_.Device | Should -Be 'cpu'
            $_.OutputThroughput | Should -BeGreaterThan 0
        }
        ($results | Select-Object -Unique InputLength, MaxConcurrency).Count | Should -Be 4
        $rows = $results | Compare-FseResult
        $rows.Count | Should -Be 4
        # One CSV row per grid point and mode, the delta table, and a valid PNG.
        @(Import-FseResult $csv).Count | Should -Be 8
        $md = $results | Compare-FseResult -Format Markdown
        $md | Should -Match '\| ISL \| OSL \| MC \| TPOT mean \(ms\) off → on \(Δ\) \|'
        ($md -split "`n" | Where-Object { $_ -match '^\| (24|48) \|' }).Count | Should -Be 4
        $png = Join-Path $TestDrive 'grid.png'
        $null = $results | Export-FsePlot -Path $png
        $bytes = [IO.File]::ReadAllBytes($png)
        [BitConverter]::ToString($bytes, 0, 8) | Should -Be '89-50-4E-47-0D-0A-1A-0A'
        $bytes.Length | Should -BeGreaterThan 10000
        Get-FseServer | Where-Object Model -EQ 'tiny-qwen3-next' | Where-Object Status -EQ 'Running' | Should -BeNullOrEmpty -Because 'each mode''s server is stopped after its sweep'
    }

    It 'reports a server that cannot start as an error of the benchmark' {
        Invoke-FseBenchmark -Model 'no-such-preset' -Fse On -InputLength 8 -OutputLength 2 -Concurrency 1 -NumPrompts 1 -ErrorVariable err -ErrorAction SilentlyContinue |
            Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Match '^ServerStartFailed'
    }

    It 'runs 20 gsm8k items through Invoke-FseAccuracy' {
        $s = Start-FseServer -Model tiny-qwen3-next -MaxModelLen 4096 -MaxNumBatchedTokens 4096
        try {
            $r = Invoke-FseAccuracy -Server $s -Limit 20 -DataPath (Join-Path (Get-FseSharedDataPath) 'gsm8k') -MaxTokens 32
            $r.Count | Should -Be 2
            $r.Filter | Sort-Object | Should -Be @('flexible-extract', 'strict-match')
            $r | ForEach-Object {
                $_.Task | Should -Be 'gsm8k'
                $_.Fse | Should -Be 'On'
                $_.Device | Should -Be 'cpu'
                $_.N | Should -Be 20
                $_.Failed | Should -Be 0
                $_.Score | Should -BeGreaterOrEqual 0
                $_.Score | Should -BeLessOrEqual 1
            }
        }
        finally { Stop-FseServer $s }
    }
}
