# Invoke-FseBenchmark, Compare-FseResult, Export-FseResult, Import-FseResult and Export-FsePlot against real scripted
# OpenAI-compatible servers: the Fse.Bench.Tests assembly run as `serve` (a Kestrel server with scripted timing).
BeforeDiscovery {
    $script:cmdlets = 'Invoke-FseBenchmark', 'Compare-FseResult', 'Export-FseResult', 'Import-FseResult', 'Export-FsePlot'
}

BeforeAll {
    Import-Module Fse -Force
    $repo = Split-Path (Split-Path $PSScriptRoot)
    $serverDll = Get-ChildItem (Join-Path $repo 'Tests/Fse.Bench.Tests/bin/*/net10.0/Fse.Bench.Tests.dll') -ErrorAction Ignore |
        Sort-Object LastWriteTime -Descending | Select-Object -First 1
    if (-not $serverDll) { throw 'Tests/Fse.Bench.Tests is not built: the scripted server lives in it (build.ps1 Test builds it).' }
    $script:servers = [System.Collections.Generic.List[object]]::new()

    function Start-ScriptedServer([string[]] $Arguments) {
        $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
        foreach ($a in @($serverDll.FullName, 'serve') + $Arguments) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardInput = $true
        $psi.UseShellExecute = $false
        $process = [System.Diagnostics.Process]::Start($psi)
        $line = $process.StandardOutput.ReadLine()
        if ($line -notmatch '^LISTENING (\S+)') { throw "The scripted server did not start: $line" }
        $server = [pscustomobject]@{ Url = $Matches[1]; Process = $process }
        $script:servers.Add($server)
        $server
    }

    function Assert-Within([string] $What, [double] $Expected, [double] $Actual, [System.Collections.Generic.List[string]] $Misses) {
        if ([math]::Abs($Actual - $Expected) -gt 0.05 * $Expected) { $Misses.Add("${What}: expected $Expected within 5%, measured $Actual") }
    }

    function Read-Png([string] $Path) {
        $bytes = [System.IO.File]::ReadAllBytes($Path)
        [pscustomobject]@{
            Signature = [System.BitConverter]::ToString($bytes, 0, 8)
            Chunk     = [System.Text.Encoding]::ASCII.GetString($bytes, 12, 4)
            Width     = ([int]$bytes[16] -shl 24) -bor ([int]$bytes[17] -shl 16) -bor ([int]$bytes[18] -shl 8) -bor $bytes[19]
            Height    = ([int]$bytes[20] -shl 24) -bor ([int]$bytes[21] -shl 16) -bor ([int]$bytes[22] -shl 8) -bor $bytes[23]
            Length    = $bytes.Length
        }
    }

    $script:fast = Start-ScriptedServer @('--ttft-ms', '0', '--gap-ms', '0')
    $script:off = Start-ScriptedServer @('--ttft-ms', '0', '--gap-ms', '0', '--fse', 'off')
    $script:slow = Start-ScriptedServer @('--ttft-ms', '20', '--gap-ms', '20')
}

AfterAll {
    foreach ($s in $script:servers) {
        $s.Process.StandardInput.Close()
        if (-not $s.Process.WaitForExit(5000)) { $s.Process.Kill() }
    }
}

Describe 'Invoke-FseBenchmark' {
    It 'measures a server with 200 ms to the first token and 40 ms gaps within 5%' {
        $server = Start-ScriptedServer @('--ttft-ms', '200', '--gap-ms', '40', '--usage-delay-ms', '150')
        # Wall-clock checks get a few attempts: other processes can stall this shared machine for most of a second.
        $attempts = @()
        foreach ($attempt in 1..5) {
            $r = Invoke-FseBenchmark -Server $server.Url -InputLength 64 -OutputLength 16 -Concurrency 4 -NumPrompts 8 -WarmupRequests 4 -Seed 5
            $misses = [System.Collections.Generic.List[string]]::new()
            Assert-Within 'TTFT' 200 $r.MeanTtftMs $misses
            Assert-Within 'median ITL' 40 $r.MedianItlMs $misses
            Assert-Within 'TPOT' 40 $r.MeanTpotMs $misses
            Assert-Within 'E2EL' 800 $r.MeanE2elMs $misses           # 200 + 15 x 40; the usage chunk 150 ms later does not count
            Assert-Within 'req/s' (8 / 1.9) $r.RequestThroughput $misses   # two waves of 800 + 150 ms
            Assert-Within 'output tok/s' (8 * 16 / 1.9) $r.OutputThroughput $misses
            Assert-Within 'total tok/s' (8 * 80 / 1.9) $r.TotalThroughput $misses
            if ($misses.Count -eq 0) { break }
            $attempts += "attempt ${attempt}: $($misses -join '; ')"
        }
        $misses.Count | Should -Be 0 -Because ($attempts -join "`n")
        $r | Should -BeOfType ([Fse.Bench.FseBenchmarkResult])
        $r.Completed | Should -Be 8
        $r.Failed | Should -Be 0
        $r.TotalOutputTokens | Should -Be (8 * 16)
        $r.Model | Should -Be 'scripted-moe'
        $r.Fse | Should -Be 'On'
        $r.Device | Should -Be 'cpu-scripted'
        $r.PromptMode | Should -Be 'Text'
    }

    It 'emits one typed result per grid point, zipped or crossed, and appends each to -OutFile' {
        $file = Join-Path $TestDrive 'grid.csv'
        $zip = Invoke-FseBenchmark $fast.Url -InputLength 32, 64 -OutputLength 4, 8 -Concurrency 1, 2 -PromptsPerConcurrency 2 -Label zip -OutFile $file
        $zip.Count | Should -Be 4
        ($zip | ForEach-Object { '{0}/{1}@{2}:{3}' -f $_.InputLength, $_.OutputLength, $_.MaxConcurrency, $_.NumPrompts }) -join ' ' |
            Should -Be '32/4@1:2 32/4@2:4 64/8@1:2 64/8@2:4'
        $cross = Invoke-FseBenchmark $fast.Url -InputLength 32, 64 -OutputLength 4, 8 -Pairing Cross -Concurrency 3 -NumPrompts 3 -Label cross -OutFile $file
        $cross.Count | Should -Be 4
        ($cross | ForEach-Object { '{0}/{1}' -f $_.InputLength, $_.OutputLength }) -join ' ' | Should -Be '32/4 32/8 64/4 64/8'
        $saved = Import-FseResult $file
        $saved.Count | Should -Be 8
        $saved[0] | Should -BeOfType ([Fse.Bench.FseBenchmarkResult])
        $saved.Label | Should -Be @('zip', 'zip', 'zip', 'zip', 'cross', 'cross', 'cross', 'cross')
        $saved[7].MeanTpotMs | Should -Be $cross[3].MeanTpotMs
        $saved | ForEach-Object { $_.TotalInputTokens | Should -Be ($_.NumPrompts * $_.InputLength) }
    }

    It 'sends token-id prompts to a server without /tokenize and says so' {
        $server = Start-ScriptedServer @('--ttft-ms', '0', '--gap-ms', '0', '--no-tokenize')
        $r = Invoke-FseBenchmark $server.Url -InputLength 50 -OutputLength 3 -Concurrency 2 -NumPrompts 4
        $r.PromptMode | Should -Be 'TokenIds'
        $r.Notes | Should -Match 'token ids'
        $r.TotalInputTokens | Should -Be 200
    }

    It 'counts failed requests, keeps their errors and warns' {
        $server = Start-ScriptedServer @('--ttft-ms', '0', '--gap-ms', '0', '--fail-every', '2')
        $r = Invoke-FseBenchmark $server.Url -InputLength 20 -OutputLength 4 -Concurrency 1 -NumPrompts 6 -WarningVariable warnings -WarningAction SilentlyContinue
        $r.Completed | Should -Be 3
        $r.Failed | Should -Be 3
        @($r.Errors -split "`n").Count | Should -Be 3
        $r.Errors | Should -Match '^1x .*503.*scripted overload on request \d+'
        $warnings.Count | Should -Be 1
        $warnings[0].Message | Should -Match '3 of 6 requests failed'
    }

    It 'takes an FseServer handle: its Fse and Device fill what the server does not report' {
        $server = Start-ScriptedServer @('--ttft-ms', '0', '--gap-ms', '0', '--fse', 'none', '--device', 'none', '--vocab', 'none')
        $handle = [pscustomobject]@{ Url = $server.Url; Fse = 'Off'; Model = '/models/x'; Device = 'NVIDIA H100' }
        $r = $handle | Invoke-FseBenchmark -InputLength 8 -OutputLength 2 -Concurrency 1 -NumPrompts 2 -VocabSize 500
        $r.Fse | Should -Be 'Off'
        $r.Device | Should -Be 'NVIDIA H100'
        $r.Model | Should -Be 'scripted-moe'
    }

    It 'writes <Id> (<Category>) for <Case>' -ForEach @(
        @{ Case = 'a server that does not answer'; Id = 'ServerUnreachable'; Category = 'ConnectionError'; Url = 'http://127.0.0.1:1' }
        @{ Case = 'an unknown vocabulary'; Id = 'BenchmarkSetupFailed'; Category = 'InvalidArgument'; Url = $null }
    ) {
        $target = if ($Url) { $Url } else { (Start-ScriptedServer @('--ttft-ms', '0', '--gap-ms', '0', '--vocab', 'none')).Url }
        $r = Invoke-FseBenchmark $target -InputLength 8 -OutputLength 2 -Concurrency 1 -NumPrompts 1 -ErrorVariable errs -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be "$Id,Fse.Cmdlets.InvokeFseBenchmarkCommand"
        $errs[0].CategoryInfo.Category | Should -Be $Category
    }

    It 'stops with InvalidBenchmarkGrid before any request when zipped lengths do not pair' {
        { Invoke-FseBenchmark $fast.Url -InputLength 1, 2 -OutputLength 1, 2, 3 -Concurrency 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidBenchmarkGrid,Fse.Cmdlets.InvokeFseBenchmarkCommand'
    }

    It 'keeps every finished point in -OutFile when stopped like Ctrl+C' {
        $file = Join-Path $TestDrive 'stopped.csv'
        $ps = [powershell]::Create()
        $null = $ps.AddScript('param($url, $file) Import-Module Fse; Invoke-FseBenchmark $url -InputLength 16 -OutputLength 4, 400 -Pairing Cross -Concurrency 2 -NumPrompts 2 -OutFile $file').
            AddArgument($slow.Url).AddArgument($file)
        $handle = $ps.BeginInvoke()
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not ((Test-Path $file) -and @(Get-Content $file).Count -ge 2) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        Start-Sleep -Milliseconds 300   # into the second point, whose requests take 8 s
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 5
        $handle.IsCompleted | Should -BeTrue
        $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        $saved = @(Import-FseResult $file)
        $saved.Count | Should -Be 1
        $saved[0].OutputLength | Should -Be 4
        $saved[0].Completed | Should -Be 2
        $ps.Dispose()
    }

    It 'stops the sweep when a downstream command has enough' {
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $first = Invoke-FseBenchmark $slow.Url -InputLength 16 -OutputLength 4, 400 -Pairing Cross -Concurrency 2 -NumPrompts 2 | Select-Object -First 1
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 5
        $first.OutputLength | Should -Be 4
    }

    It 'reports progress per grid point with live output tok/s' {
        $ps = [powershell]::Create()
        $null = $ps.AddScript('param($url) Import-Module Fse; Invoke-FseBenchmark $url -InputLength 16 -OutputLength 30 -Concurrency 2, 4 -NumPrompts 4').AddArgument($slow.Url)
        $results = $ps.Invoke()
        $results.Count | Should -Be 2
        $progress = @($ps.Streams.Progress)
        $progress | Where-Object { $_.StatusDescription -like 'Point 2 of 2:*MC 4*' } | Should -Not -BeNullOrEmpty
        $progress | Where-Object { $_.StatusDescription -match 'requests done, [1-9]\d* output tok/s' } | Should -Not -BeNullOrEmpty
        $progress | Where-Object { $_.RecordType -eq 'Completed' } | Should -Not -BeNullOrEmpty
        $ps.Dispose()
    }

    It 'shows a default table view' {
        $text = Invoke-FseBenchmark $fast.Url -InputLength 8 -OutputLength 2 -Concurrency 1 -NumPrompts 1 -Label viewed | Out-String -Width 200
        $text | Should -Match 'Out tok/s'
        $text | Should -Match 'TPOT p99'
        $text | Should -Match 'viewed'
    }
}

Describe 'Compare-FseResult' {
    BeforeAll {
        $common = @{ InputLength = 40, 80; OutputLength = 4, 8; Concurrency = 1, 2; NumPrompts = 3; Seed = 9 }
        $script:offResults = Invoke-FseBenchmark $off.Url @common
        $script:onResults = Invoke-FseBenchmark $fast.Url @common
    }

    It 'groups piped results by Fse (Off = baseline, On = candidate) into one row per grid point' {
        $rows = @($offResults) + @($onResults) | Compare-FseResult
        $rows.Count | Should -Be 4
        $rows[0] | Should -BeOfType ([Fse.Bench.FseBenchmarkComparison])
        ($rows | ForEach-Object { '{0}/{1}@{2}' -f $_.InputLength, $_.OutputLength, $_.MaxConcurrency }) -join ' ' | Should -Be '40/4@1 40/4@2 80/8@1 80/8@2'
        $rows[3].Baseline | Should -Be 'Off'
        $rows[3].Candidate | Should -Be 'On'
        $rows[3].BaselineOutputThroughput | Should -Be $offResults[3].OutputThroughput
        $rows[3].OutputThroughputDeltaPct | Should -Be ((($onResults[3].OutputThroughput - $offResults[3].OutputThroughput) / $offResults[3].OutputThroughput) * 100)
    }

    It 'prints the SEMANTICS table with -Format Markdown, from -Baseline and -Candidate' {
        $md = Compare-FseResult -Baseline $offResults -Candidate $onResults -Format Markdown
        $md | Should -BeOfType ([string])
        $lines = $md.TrimEnd("`n") -split "`n"
        $lines[0] | Should -Be '| ISL | OSL | MC | TPOT mean (ms) off → on (Δ) | TPOT p99 | Output tok/s off → on (Δ) | Total tok/s off → on (Δ) |'
        $lines.Count | Should -Be 6
        $lines[2] | Should -Match '^\| 40 \| 4 \| 1 \| [\d.]+ → [\d.]+ \([+-]?[\d.]+%\) \|'
    }

    It 'warns about grid points without a partner' {
        $rows = Compare-FseResult -Baseline $offResults -Candidate $onResults[0] -WarningVariable w -WarningAction SilentlyContinue
        @($rows).Count | Should -Be 1
        $w.Count | Should -Be 3
    }

    It 'refuses piped results without an FSE mode and inputs that are not results' {
        $plain = $offResults[0] | Select-Object * | ForEach-Object { $_ }
        { $plain | Compare-FseResult -ErrorAction Stop } | Should -Throw -ErrorId 'UnsupportedResultType,Fse.Cmdlets.CompareFseResultCommand'
        $server = Start-ScriptedServer @('--ttft-ms', '0', '--gap-ms', '0', '--fse', 'none')
        $noMode = Invoke-FseBenchmark $server.Url -InputLength 8 -OutputLength 2 -Concurrency 1 -NumPrompts 1
        { $noMode, $onResults[0] | Compare-FseResult -ErrorAction Stop } | Should -Throw -ErrorId 'FseModeMissing,Fse.Cmdlets.CompareFseResultCommand'
    }
}

Describe 'Export-FseResult and Import-FseResult' {
    BeforeAll {
        $script:results = Invoke-FseBenchmark $fast.Url -InputLength 16, 32 -OutputLength 2, 3 -Concurrency 1, 2 -NumPrompts 2 -Label 'round, "trip"'
        $script:props = [Fse.Bench.FseBenchmarkResult].GetProperties().Name
    }

    It 'round-trips typed results with every property' {
        $file = Join-Path $TestDrive 'r.csv'
        $results | Export-FseResult -Path $file
        $back = Import-FseResult -Path $file
        $back.Count | Should -Be $results.Count
        for ($i = 0; $i -lt $results.Count; $i++) {
            foreach ($p in $props) { "$p=$($back[$i].$p)" | Should -Be "$p=$($results[$i].$p)" }
        }
        (Get-Content $file -First 1) | Should -Match '^Label,Model,Fse,Device,Server,InputLength'
    }

    It 'appends with -Append, passes objects on with -PassThru and honours -WhatIf' {
        $file = Join-Path $TestDrive 'a.csv'
        $passed = $results[0..1] | Export-FseResult $file -PassThru
        $passed.Count | Should -Be 2
        $results[2..3] | Export-FseResult $file -Append
        (Import-FseResult $file).MaxConcurrency | Should -Be @(1, 2, 1, 2)
        $results | Export-FseResult (Join-Path $TestDrive 'whatif.csv') -WhatIf
        Join-Path $TestDrive 'whatif.csv' | Should -Not -Exist
    }

    It 'works with Export-Csv: flat properties, the errors in one column, and Import-FseResult reads it back' {
        $file = Join-Path $TestDrive 'export-csv.csv'
        $results | Export-Csv -Path $file
        $plain = Import-Csv $file
        $plain[0].PSObject.Properties.Name | Should -Be $props
        $plain[0].Errors | Should -BeOfType ([string])
        $back = Import-FseResult $file
        $back[0] | Should -BeOfType ([Fse.Bench.FseBenchmarkResult])
        $back[3].OutputThroughput | Should -Be $results[3].OutputThroughput
        $back[3].Label | Should -Be 'round, "trip"'
    }

    It 'writes <Id> for <Case>' -ForEach @(
        @{ Case = 'a CSV of something else'; Id = 'UnknownResultCsv'; Content = "Name,Value`nx,1`n" }
        @{ Case = 'a missing file'; Id = 'ResultFileNotFound'; Content = $null }
    ) {
        $file = Join-Path $TestDrive "bad-$Id.csv"
        if ($null -ne $Content) { Set-Content $file $Content }
        $r = Import-FseResult $file -ErrorVariable errs -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $errs[0].FullyQualifiedErrorId | Should -Be "$Id,Fse.Cmdlets.ImportFseResultCommand"
    }

    It 'refuses objects that are not results' {
        $file = Join-Path $TestDrive 'refused.csv'
        [pscustomobject]@{ A = 1 } | Export-FseResult $file -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'UnsupportedResultType,Fse.Cmdlets.ExportFseResultCommand'
        $file | Should -Not -Exist
    }
}

Describe 'Export-FsePlot' {
    It 'draws a valid PNG of the requested size from piped results' {
        $a = Invoke-FseBenchmark $off.Url -InputLength 16 -OutputLength 4 -Concurrency 1, 2, 4 -NumPrompts 3
        $b = Invoke-FseBenchmark $fast.Url -InputLength 16 -OutputLength 4 -Concurrency 1, 2, 4 -NumPrompts 3
        $file = Join-Path $TestDrive 'plots/sweep.png'
        $item = @($a) + @($b) | Export-FsePlot -Path $file -Width 900 -Height 400 -Title 'scripted'
        $item.FullName | Should -Be $file
        $item.Length | Should -BeGreaterThan 10000
        $png = Read-Png $file
        $png.Signature | Should -Be '89-50-4E-47-0D-0A-1A-0A'
        $png.Chunk | Should -Be 'IHDR'
        $png.Width | Should -Be 900
        $png.Height | Should -Be 400
    }
}

Describe 'Benchmark cmdlet help' {
    It '<_> has full help with every parameter and an example' -ForEach $cmdlets {
        $help = Get-Help $_ -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $documented = @($help.parameters.parameter | Where-Object { $_.description.Text }).name
        $declared = (Get-Command $_).Parameters.Keys | Where-Object { $_ -notin [System.Management.Automation.Cmdlet]::CommonParameters -and $_ -notin [System.Management.Automation.Cmdlet]::OptionalCommonParameters }
        foreach ($p in $declared) { $documented | Should -Contain $p }
        @($help.examples.example).Count | Should -BeGreaterOrEqual 1
    }
}
