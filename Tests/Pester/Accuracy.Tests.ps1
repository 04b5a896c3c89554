BeforeAll {
    Import-Module Fse -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:gsm8k = Join-Path (Get-FseSharedDataPath) 'gsm8k'

    # A real HTTP server (HttpListener on loopback) that answers /v1/completions from a table: it finds the item by the
    # last "Question: ... \nAnswer:" of the prompt and plays that item's replies in order ("status:N" is an HTTP error,
    # "hang" never answers); the last reply repeats.
    if (-not ('FseAccuracyTestServer' -as [type])) {
        Add-Type -ReferencedAssemblies System.Net.HttpListener, System.Net.Primitives, System.Text.Json, System.Collections.Concurrent, System.Collections, System.Linq, System.Memory, System.Runtime, System.Threading, System.Net.Sockets -TypeDefinition @'
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

public sealed class FseAccuracyTestServer : IDisposable
{
    private readonly HttpListener _listener = new HttpListener();
    private readonly CancellationTokenSource _stop = new CancellationTokenSource();
    private readonly Dictionary<string, string[]> _replies;
    private readonly string _models;

    public ConcurrentDictionary<string, int> Calls { get; } = new ConcurrentDictionary<string, int>();
    public ConcurrentQueue<string> Bodies { get; } = new ConcurrentQueue<string>();
    public string Url { get; }

    public FseAccuracyTestServer(Dictionary<string, string[]> replies, string modelsJson)
    {
        _replies = replies;
        _models = modelsJson;
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = "http://127.0.0.1:" + port + "/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        Task.Run(Loop);
    }

    public static string QuestionOf(string prompt)
    {
        int q = prompt.LastIndexOf("Question: ", StringComparison.Ordinal);
        int a = prompt.LastIndexOf("\nAnswer:", StringComparison.Ordinal);
        return q >= 0 && a > q ? prompt.Substring(q + 10, a - q - 10) : prompt;
    }

    private async Task Loop()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); } catch { return; }
            _ = Task.Run(() => Handle(ctx));
        }
    }

    private async Task Handle(HttpListenerContext ctx)
    {
        try
        {
            string path = ctx.Request.Url.AbsolutePath;
            if (path == "/v1/models") { await Send(ctx, 200, _models); return; }
            string body;
            using (var reader = new System.IO.StreamReader(ctx.Request.InputStream, Encoding.UTF8)) body = await reader.ReadToEndAsync();
            Bodies.Enqueue(body);
            string question;
            using (var doc = JsonDocument.Parse(body)) question = QuestionOf(doc.RootElement.GetProperty("prompt").GetString());
            int call = Calls.AddOrUpdate(question, 1, (_, n) => n + 1);
            string[] script;
            if (!_replies.TryGetValue(question, out script)) { await Send(ctx, 404, "{\"error\":{\"message\":\"unscripted question\"}}"); return; }
            string reply = script[Math.Min(call, script.Length) - 1];
            if (reply == "hang") { try { await Task.Delay(Timeout.Infinite, _stop.Token); } catch { } return; }
            if (reply.StartsWith("status:", StringComparison.Ordinal))
            {
                await Send(ctx, int.Parse(reply.Substring(7)), "{\"error\":{\"message\":\"scripted " + reply + "\",\"type\":\"server_error\"}}");
                return;
            }
            var answer = new Dictionary<string, object> { ["id"] = "c", ["choices"] = new object[] { new Dictionary<string, object> { ["index"] = 0, ["text"] = reply, ["finish_reason"] = "stop" } } };
            await Send(ctx, 200, JsonSerializer.Serialize(answer));
        }
        catch (Exception) { try { ctx.Response.Abort(); } catch { } }
    }

    private static async Task Send(HttpListenerContext ctx, int status, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength64 = bytes.Length;
        await ctx.Response.OutputStream.WriteAsync(bytes, 0, bytes.Length);
        ctx.Response.Close();
    }

    public void Dispose()
    {
        _stop.Cancel();
        try { _listener.Stop(); _listener.Close(); } catch { }
    }
}
'@
    }

    $script:testItems = @(Get-Content (Join-Path $gsm8k 'test.jsonl') -TotalCount 12 | ForEach-Object { $_ | ConvertFrom-Json })
    function script:AnswerOf([int] $i) { [long](($testItems[$i].answer -split '#### ')[-1] -replace ',', '') }
    function script:New-TestServer([hashtable] $byIndex, [string] $models = '{"data":[{"id":"tiny-moe","object":"model","fse":"on","device":"cpu"}]}') {
        $table = [System.Collections.Generic.Dictionary[string, string[]]]::new()
        foreach ($k in $byIndex.Keys) { $table[$testItems[$k].question] = [string[]]@($byIndex[$k]) }
        [FseAccuracyTestServer]::new($table, $models)
    }
    # Eight gsm8k items, each on one path. strict-match is right on 0, 2, 5 (3 of 7 scored); flexible-extract on
    # 0, 1, 2, 5, 6 (5 of 7); item 7 never gets an answer.
    function script:Get-EightItemScript {
        @{
            0 = " She makes $(AnswerOf 0) dollars.`n#### $(AnswerOf 0)"
            1 = " The answer is $(AnswerOf 1)."
            2 = " #### $(AnswerOf 2)`n`nQuestion: What is 999 + 1?`nAnswer: #### 1000"
            3 = " #### $((AnswerOf 3) + 1)"
            4 = ' I cannot tell.'
            5 = @('status:500', " #### $(AnswerOf 5)")
            6 = @('status:429', " $(AnswerOf 6)")
            7 = 'status:503'
        }
    }
}

Describe 'Invoke-FseAccuracy' {
    BeforeAll { $script:saved = $env:FSE_GSM8K_PATH }
    AfterAll { $env:FSE_GSM8K_PATH = $saved }

    It 'scores a scripted server exactly, per filter, reporting the item it could not score' {
        $server = New-TestServer (Get-EightItemScript)
        try {
            $results = Invoke-FseAccuracy -Server $server.Url -Task gsm8k -DataPath $gsm8k -Limit 8 -Concurrency 3 -MaxRetries 2 `
                -ErrorVariable errs -ErrorAction SilentlyContinue -WarningVariable warns -WarningAction SilentlyContinue
        }
        finally { $server.Dispose() }
        $results.Count | Should -Be 2
        $results | ForEach-Object { $_ | Should -BeOfType ([Fse.Eval.FseAccuracyResult]) }
        $strict = $results | Where-Object Filter -EQ 'strict-match'
        $flexible = $results | Where-Object Filter -EQ 'flexible-extract'
        $strict.Score | Should -Be (3 / 7)
        $strict.Stderr | Should -BeLessThan ([math]::Sqrt((3 / 7) * (4 / 7) / 6) + 1e-12)
        $strict.Stderr | Should -BeGreaterThan ([math]::Sqrt((3 / 7) * (4 / 7) / 6) - 1e-12)
        $flexible.Score | Should -Be (5 / 7)
        foreach ($r in $results) {
            $r.N | Should -Be 7
            $r.Failed | Should -Be 1
            $r.Total | Should -Be 8
            $r.Task | Should -Be 'gsm8k'
            $r.Model | Should -Be 'tiny-moe'
            $r.Fse | Should -Be 'on'
            $r.Device | Should -Be 'cpu'
            $r.NumFewshot | Should -Be 5
            $r.Seed | Should -Be 1234
            $r.MaxTokens | Should -Be 256
            $r.Limit | Should -Be 8
            $r.Concurrency | Should -Be 3
            $r.Interrupted | Should -BeFalse
        }
        $strict.Invalid | Should -Be 3
        $flexible.Invalid | Should -Be 1
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'AccuracyItemFailed,Fse.Cmdlets.InvokeFseAccuracyCommand'
        $errs[0].Exception.Message | Should -Match 'item 7'
        $errs[0].Exception.Message | Should -Match '503'
        $warns.Count | Should -Be 1
        $server.Calls[$testItems[7].question] | Should -Be 3
        $server.Calls[$testItems[5].question] | Should -Be 2
    }

    It 'sends lm-eval''s request and the exact prompt' {
        $server = New-TestServer @{ 0 = ' #### 18' }
        try { $null = Invoke-FseAccuracy $server.Url -DataPath $gsm8k -Limit 1 -MaxTokens 64 -Seed 1234 }
        finally { $server.Dispose() }
        $body = @($server.Bodies)[0] | ConvertFrom-Json
        $body.model | Should -Be 'tiny-moe'
        $body.max_tokens | Should -Be 64
        $body.temperature | Should -Be 0
        $body.seed | Should -Be 1234
        $body.stop | Should -Be @('Question:', '</s>', '<|im_end|>')
        $sha = [System.Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData([System.Text.Encoding]::UTF8.GetBytes($body.prompt))).ToLowerInvariant()
        $sha | Should -Be '32680f263ba83280e98a8a24ceefed10a722a4cdcd9f4d78e93c45d43143ca66'
    }

    It 'emits per-item records with -Detailed that pair two runs for McNemar''s test' {
        $script = Get-EightItemScript
        $off = New-TestServer $script '{"data":[{"id":"tiny-moe","fse":"off"}]}'
        try { $a = Invoke-FseAccuracy $off.Url -DataPath $gsm8k -Limit 8 -MaxRetries 0 -Detailed -ErrorAction SilentlyContinue -WarningAction SilentlyContinue }
        finally { $off.Dispose() }
        $script[3] = " #### $(AnswerOf 3)"; $script[4] = " #### $(AnswerOf 4)"; $script[1] = " #### $((AnswerOf 1) + 5)"
        $on = New-TestServer $script '{"data":[{"id":"tiny-moe","fse":"on"}]}'
        try { $b = Invoke-FseAccuracy $on.Url -DataPath $gsm8k -Limit 8 -MaxRetries 0 -Detailed -ErrorAction SilentlyContinue -WarningAction SilentlyContinue }
        finally { $on.Dispose() }

        $aItems = @($a | Where-Object { $_ -is [Fse.Eval.FseAccuracyItem] })
        $aItems.Count | Should -Be 16
        ($aItems | Where-Object Failed).Count | Should -Be 6   # items 5, 6, 7 without retries, under both filters
        $first = $aItems | Where-Object { $_.Index -eq 0 -and $_.Filter -eq 'strict-match' }
        $first.PromptSha256 | Should -Be '32680f263ba83280e98a8a24ceefed10a722a4cdcd9f4d78e93c45d43143ca66'
        $first.Extracted | Should -Be "$(AnswerOf 0)"
        $first.Correct | Should -BeTrue
        $first.Fse | Should -Be 'off'
        ($aItems | Where-Object { $_.Index -eq 2 -and $_.Filter -eq 'flexible-extract' }).Response | Should -Be " #### $(AnswerOf 2)`n`n"

        $cmp = [Fse.Eval.Comparison.AccuracyComparison]::Compare(
            [Fse.Eval.FseAccuracyResult[]]@($a | Where-Object { $_ -is [Fse.Eval.FseAccuracyResult] }),
            [Fse.Eval.FseAccuracyResult[]]@($b | Where-Object { $_ -is [Fse.Eval.FseAccuracyResult] }),
            [Fse.Eval.FseAccuracyItem[]]$aItems, [Fse.Eval.FseAccuracyItem[]]@($b | Where-Object { $_ -is [Fse.Eval.FseAccuracyItem] }), 0.05, $null, $null)
        $strictRow = $cmp.Rows | Where-Object Filter -EQ 'strict-match'
        $strictRow.PairedN | Should -Be 5
        $strictRow.BaselineOnlyCorrect | Should -Be 0
        $strictRow.CandidateOnlyCorrect | Should -Be 2   # items 3 and 4
        $strictRow.Test | Should -Be 'exact binomial'
        $strictRow.PValue | Should -Be 0.5
        $flexRow = $cmp.Rows | Where-Object Filter -EQ 'flexible-extract'
        $flexRow.BaselineOnlyCorrect | Should -Be 1       # item 1
        $flexRow.CandidateOnlyCorrect | Should -Be 2
        $md = $cmp.ToMarkdown() -split "`n"
        $md[0] | Should -Be '| Config | flexible-extract | strict-match |'
        $md[1] | Should -Be '| --- | --- | --- |'
        $md[2] | Should -Be '| FSE off | 0.6000 ± 0.2449 | 0.4000 ± 0.2449 |'
        $md[3] | Should -Be '| FSE on | 0.8000 ± 0.2000 | 0.8000 ± 0.2000 |'
    }

    It 'takes FseServer objects from the pipeline and uses what they carry when the server reports nothing' {
        $server = New-TestServer @{ 0 = ' #### 18'; 1 = ' #### 3' } '{"data":[{"id":"served-name"}]}'
        try {
            $handle = [pscustomobject]@{ PSTypeName = 'Fse.FseServer'; Url = $server.Url.TrimEnd('/') + '/v1'; Fse = 'off'; Model = 'preset-name'; Device = 'cuda:0' }
            $results = $handle | Invoke-FseAccuracy -DataPath $gsm8k -Limit 2 -NumFewshot 0
        }
        finally { $server.Dispose() }
        $results.Count | Should -Be 2
        $results[0].Model | Should -Be 'served-name'
        $results[0].Fse | Should -Be 'off'
        $results[0].Device | Should -Be 'cuda:0'
        $results[0].NumFewshot | Should -Be 0
        $results[0].Score | Should -Be 1
        # Zero-shot: each prompt is its own question alone. The two requests run concurrently, so their order is not fixed.
        $prompts = @($server.Bodies | ConvertFrom-Json | ForEach-Object { $_.prompt })
        $prompts | Should -HaveCount 2
        @($prompts | Where-Object { $_ -like 'Question: Janet*' }) | Should -HaveCount 1
        $prompts | ForEach-Object { ([regex]::Matches($_, 'Question: ')).Count | Should -Be 1 }
    }

    It 'shows a default table view with score ± stderr' {
        $server = New-TestServer @{ 0 = ' #### 18'; 1 = ' #### 0' }
        try { $text = Invoke-FseAccuracy $server.Url -DataPath $gsm8k -Limit 2 | Out-String }
        finally { $server.Dispose() }
        $text | Should -Match 'strict-match'
        $text | Should -Match '0\.5000 ± 0\.5000'
        $text | Should -Match 'tiny-moe'
    }

    It 'reads the data folder from FSE_GSM8K_PATH and says how to give one when there is none' {
        $env:FSE_GSM8K_PATH = $null
        $r = Invoke-FseAccuracy http://127.0.0.1:1 -ErrorVariable errs -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $errs[0].FullyQualifiedErrorId | Should -Be 'DataPathRequired,Fse.Cmdlets.InvokeFseAccuracyCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $errs[0].Exception.Message | Should -Match 'FSE_GSM8K_PATH'

        $env:FSE_GSM8K_PATH = $gsm8k
        $server = New-TestServer @{ 0 = ' #### 18' }
        try { (Invoke-FseAccuracy $server.Url -Limit 1)[0].Score | Should -Be 1 }
        finally { $server.Dispose(); $env:FSE_GSM8K_PATH = $saved }
    }

    It 'runs a task defined in a file with its own template, stop strings, filter and data' {
        $dir = Join-Path $TestDrive 'arith'
        $null = New-Item -ItemType Directory -Force $dir
        $rows = 1..6 | ForEach-Object { [ordered]@{ problem = "What is $_ times 7?"; solution = "ANSWER: $($_ * 7)" } }
        $rows | ForEach-Object { $_ | ConvertTo-Json -Compress } | Set-Content (Join-Path $dir 'items.jsonl')
        @'
{
  "task": "arith",
  "data": { "test": "items.jsonl", "fewshot": "items.jsonl" },
  "doc_to_text": "Question: {{problem}}\nAnswer:",
  "doc_to_target": "{{solution}}",
  "num_fewshot": 2,
  "generation_kwargs": { "until": ["\n"], "max_gen_toks": 16 },
  "metric_list": [ { "metric": "exact_match", "regexes_to_ignore": ["ANSWER: "] } ],
  "filter_list": [ { "name": "answer", "filter": [ { "function": "regex", "regex_pattern": "ANSWER: (\\d+)" }, { "function": "take_first" } ] } ]
}
'@ | Set-Content (Join-Path $dir 'arith.json')
        $table = [System.Collections.Generic.Dictionary[string, string[]]]::new()
        for ($i = 1; $i -le 6; $i++) { $table["What is $i times 7?"] = [string[]]@($(if ($i -le 4) { " ANSWER: $($i * 7)`nQuestion: x" } else { ' ANSWER: 0' })) }
        $server = [FseAccuracyTestServer]::new($table, '{"data":[{"id":"m"}]}')
        try { $r = Invoke-FseAccuracy $server.Url -TaskFile (Join-Path $dir 'arith.json') }
        finally { $server.Dispose() }
        $r.Task | Should -Be 'arith'
        $r.Filter | Should -Be 'answer'
        $r.N | Should -Be 6
        $r.Score | Should -Be (4 / 6)
        $r.MaxTokens | Should -Be 16
        $r.NumFewshot | Should -Be 2
        $body = @($server.Bodies)[0] | ConvertFrom-Json
        $body.stop | Should -Be @("`n")
        ($body.prompt -split 'Question: ').Count | Should -Be 4     # two examples, then the item
    }

    It 'names the file and line of malformed data' {
        $dir = Join-Path $TestDrive 'bad'
        $null = New-Item -ItemType Directory -Force $dir
        Set-Content (Join-Path $dir 'test.jsonl') @('{"question": "a", "answer": "#### 1"}', '{"question": "b"}')
        Set-Content (Join-Path $dir 'train.jsonl') '{"question": "c", "answer": "#### 2"}'
        $r = Invoke-FseAccuracy http://127.0.0.1:1 -DataPath $dir -ErrorVariable errs -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $errs[0].FullyQualifiedErrorId | Should -Be 'TaskDataMalformed,Fse.Cmdlets.InvokeFseAccuracyCommand'
        $errs[0].Exception.Message | Should -Match ([regex]::Escape((Join-Path $dir 'test.jsonl') + ':2'))
        $errs[0].Exception.Message | Should -Match "'answer' is missing"
    }

    It 'writes <Id> for <Case>' -ForEach @(
        @{ Case = 'an unknown task'; Splat = @{ Task = 'mmlu' }; Id = 'UnknownTask' }
        @{ Case = 'a missing task file'; Splat = @{ TaskFile = 'no-such-task.json' }; Id = 'TaskFileNotFound' }
        @{ Case = 'a server that is not there'; Splat = @{ Limit = 1 }; Id = 'AccuracyServerUnavailable' }
    ) {
        $r = Invoke-FseAccuracy http://127.0.0.1:1 -DataPath $gsm8k @Splat -ErrorVariable errs -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $errs[0].FullyQualifiedErrorId | Should -Be "$Id,Fse.Cmdlets.InvokeFseAccuracyCommand"
    }

    It 'reports progress: items done and the running accuracy of each filter' {
        $server = New-TestServer @{ 0 = ' #### 18'; 1 = ' #### 0' }
        $ps = [powershell]::Create([System.Management.Automation.RunspaceMode]::NewRunspace)
        try {
            $null = $ps.AddScript('param($url, $data) Import-Module Fse; Invoke-FseAccuracy $url -DataPath $data -Limit 2 -Concurrency 1').AddArgument($server.Url).AddArgument($gsm8k)
            $out = $ps.Invoke()
            $progress = @($ps.Streams.Progress)
        }
        finally { $ps.Dispose(); $server.Dispose() }
        $out.Count | Should -Be 2
        $progress.StatusDescription | Should -Contain '1/2 done; strict-match 1.0000, flexible-extract 1.0000'
        $progress.StatusDescription | Should -Contain '2/2 done; strict-match 0.5000, flexible-extract 0.5000'
        $progress[0].Activity | Should -Match 'gsm8k \(5-shot\).*tiny-moe'
        $progress[-1].RecordType | Should -Be 'Completed'
    }

    It 'keeps the finished items when stopped (Ctrl+C)' {
        $server = New-TestServer @{ 0 = ' #### 18'; 1 = " #### $(AnswerOf 1)"; 2 = 'hang'; 3 = 'hang'; 4 = 'hang' }
        $ps = [powershell]::Create([System.Management.Automation.RunspaceMode]::NewRunspace)
        try {
            $null = $ps.AddScript('param($url, $data) Import-Module Fse; Invoke-FseAccuracy $url -DataPath $data -Limit 5 -Concurrency 5').AddArgument($server.Url).AddArgument($gsm8k)
            $handle = $ps.BeginInvoke()
            $deadline = [datetime]::UtcNow.AddSeconds(30)
            while ($server.Bodies.Count -lt 5 -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            Start-Sleep -Milliseconds 300
            $ps.Stop()
            $partial = $ps.Runspace.SessionStateProxy.GetVariable('FseAccuracyPartial')
        }
        finally { $ps.Dispose(); $server.Dispose() }
        $handle.IsCompleted | Should -BeTrue
        $partial.Count | Should -Be 2
        foreach ($r in $partial) {
            $r.Interrupted | Should -BeTrue
            $r.N | Should -Be 2
            $r.Total | Should -Be 5
            $r.Score | Should -Be 1
        }
    }

    It 'has full help with every parameter and examples' {
        $help = Get-Help Invoke-FseAccuracy -Full
        $help.Synopsis | Should -Match 'gsm8k'
        foreach ($p in 'Server', 'Task', 'TaskFile', 'NumFewshot', 'Limit', 'Concurrency', 'DataPath', 'Seed', 'MaxTokens', 'Model', 'Detailed') {
            $help.parameters.parameter.name | Should -Contain $p
        }
        @($help.examples.example).Count | Should -BeGreaterOrEqual 3
    }
}
