BeforeAll {
    Import-Module Fse -Force
    function New-AccuracyResult($Fse, $Filter, $Score) {
        [Fse.Eval.FseAccuracyResult]@{ Task = 'gsm8k'; Filter = $Filter; Score = $Score; Stderr = 0.05; N = 40; Invalid = 1; Failed = 0; Total = 40; Fse = $Fse }
    }
    function New-AccuracyItem($Fse, $Index, $Correct) {
        [Fse.Eval.FseAccuracyItem]@{ Task = 'gsm8k'; Index = $Index; Filter = 'strict-match'; PromptSha256 = ('{0:x64}' -f $Index); Reference = '#### 1'; ReferenceNormalised = '1'; Correct = $Correct; Fse = $Fse }
    }
    $results = @(
        New-AccuracyResult Off strict-match 0.5
        New-AccuracyResult Off flexible-extract 0.55
        New-AccuracyResult On strict-match 0.52
        New-AccuracyResult On flexible-extract 0.56
    )
    # Off right on even items, On right where the index is not a multiple of 3: 7 off-only, 13 on-only discordant pairs.
    $items = @(0..39 | ForEach-Object { New-AccuracyItem Off $_ ($_ % 2 -eq 0) }) + @(0..39 | ForEach-Object { New-AccuracyItem On $_ ($_ % 3 -ne 0) })
}

Describe 'Accuracy results with the result cmdlets' {
    It 'Compare-FseResult pairs FSE off and on per filter in the reference layout' {
        $md = $results | Compare-FseResult -Format Markdown
        $md | Should -Match '\| Config \| flexible-extract \| strict-match \|'
        $md | Should -Match '\| FSE Off \| 0\.5500 ± 0\.0500 \| 0\.5000 ± 0\.0500 \|'
        $md | Should -Match '\| FSE On \| 0\.5600 ± 0\.0500 \| 0\.5200 ± 0\.0500 \|'
    }

    It 'adds a McNemar test from per-item records' {
        $rows = @($results + $items | Compare-FseResult)
        $strict = $rows | Where-Object Filter -EQ 'strict-match'
        $strict.PairedN | Should -Be 40
        $strict.BaselineOnlyCorrect | Should -Be 7
        $strict.CandidateOnlyCorrect | Should -Be 13
        $strict.PValue | Should -BeGreaterThan 0.2
        $strict.PValue | Should -BeLessThan 0.3
        $strict.Significant | Should -BeFalse
    }

    It 'round-trips results and items through CSV, told apart by header' {
        $r = Join-Path $TestDrive 'accuracy.csv'
        $i = Join-Path $TestDrive 'items.csv'
        $results | Export-FseResult -Path $r
        $items | Export-FseResult -Path $i
        $back = @(Import-FseResult $r)
        $back.Count | Should -Be 4
        $back[0] | Should -BeOfType ([Fse.Eval.FseAccuracyResult])
        ($back | ForEach-Object Score) | Should -Be ($results | ForEach-Object Score)
        (Get-Content $r -First 1) | Should -Match 'Fse'
        (Get-Content $r -First 1) | Should -Match 'Filter'
        (Get-Content $r -First 1) | Should -Match 'Score'
        $itemsBack = @(Import-FseResult $i)
        $itemsBack.Count | Should -Be 80
        $itemsBack[0] | Should -BeOfType ([Fse.Eval.FseAccuracyItem])
    }

    It 'refuses to mix benchmark and accuracy results in one comparison' {
        $bench = [Fse.Bench.FseBenchmarkResult]@{ Fse = 'Off'; InputLength = 10; OutputLength = 5; MaxConcurrency = 1 }
        { @($bench) + $results | Compare-FseResult -ErrorAction Stop } | Should -Throw -ErrorId 'MixedResultTypes,Fse.Cmdlets.CompareFseResultCommand'
    }
}
