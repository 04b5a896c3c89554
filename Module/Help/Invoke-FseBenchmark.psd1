@{
    Synopsis    = 'Runs a serving benchmark grid (vllm bench serve semantics) against an OpenAI-compatible server.'
    Description = @'
Invoke-FseBenchmark measures an OpenAI-compatible server (fse-server, vLLM, SGLang, llama-server) the way `vllm bench serve` does with its random dataset, and emits one FseBenchmarkResult per grid point as soon as that point finishes.

The grid is every (input length, output length) pair, zipped (1000/100, 5000/500: the default) or crossed (-Pairing Cross), times every request rate, times every concurrency cap, run in that order. For each point the cmdlet draws random prompts of exact token length (vLLM's procedure: a run of consecutive non-special token ids from a seeded random offset, decoded with the server's /detokenize, re-encoded with /tokenize and cut or extended up to 10 times until it has the target length; a server without /tokenize gets the token ids themselves, and the result's PromptMode and Notes say so), optionally sends warm-up requests, then releases every request on its arrival schedule (all at once, or Poisson/gamma arrivals for a finite -RequestRate and -Burstiness) and sends it once one of the -Concurrency slots is free. Requests stream with ignore_eos, max_tokens = the output length and stream_options.include_usage.

Per request: TTFT is the time to the first streamed chunk that carries choices, ITL the gaps between such chunks (pooled over all requests), E2EL the time of the last such chunk (not the usage chunk, not [DONE]), the output length usage.completion_tokens (re-tokenised, or the chunk count, when the server sends no usage), the prompt length usage.prompt_tokens. TPOT = (E2EL - TTFT) / (output length - 1), only where the output has more than one token. Over the point: request, output and total (prompt + output) token throughput over the wall time of the run, the peak output tok/s in one-second buckets, and mean, median, population standard deviation and p99 (linear interpolation) of TTFT, TPOT, ITL and E2EL in milliseconds. A statistic with no sample (TPOT when every output is one token) is NaN rather than 0.

Failed requests are counted (Failed) and their messages kept (Errors: one line per distinct message with its count); a point with failures also writes a warning. The model, FSE mode and device come from the server's /v1/models (fse-server adds fse, device and vocab_size), or from the FseServer handle given as -Server where the server does not say.

Progress shows the grid point and the running point's requests and live output tok/s. Ctrl+C stops at once: every finished point has already been written to the pipeline and to -OutFile, and the running point is abandoned. -OutFile appends each point to a CSV file as it finishes, so a crash loses no finished point; Import-FseResult reads it back.
'@
    Parameters  = @{
        Server                = 'The server to measure: a URL such as http://127.0.0.1:8000 (with or without /v1), or an FseServer handle (any object with a Url property, and optionally ApiKey, Fse, Model and Device properties) from Start-FseServer. Accepts pipeline input: each piped server is benchmarked in turn.'
        Model                 = 'Instead of -Server: a checkpoint directory or a preset name (such as tiny-qwen3-next) that fse-server serves. For each -Fse mode in turn a fresh fse-server is started on a free port (as Start-FseServer does), the whole grid runs against it with the same -Seed (so both modes see the same prompts), and it is stopped in the end, also on an error or Ctrl+C.'
        Fse                   = 'With -Model: the FSE modes to start a server for, in order (default Off, On). The results carry the mode; pipe them to Compare-FseResult.'
        Device                = 'With -Model: Auto (default), Cpu or Cuda, as Start-FseServer -Device.'
        ServerArgumentList    = 'With -Model: more fse-server options for every server started, e.g. --max-model-len, 8192 or --max-num-seqs, 64 (see fse-server --help).'
        InputLength           = 'Prompt lengths in tokens (ISL). Default 1000. Paired with -OutputLength as -Pairing says.'
        OutputLength          = 'Output lengths in tokens (OSL), sent as max_tokens with ignore_eos. Default 100.'
        Concurrency           = 'Client concurrency caps (vLLM --max-concurrency): at most this many requests in flight. One grid point per value. Default 4, 16, 64.'
        Pairing               = 'Zip (default) pairs the i-th input length with the i-th output length (a single value pairs with every value of the other list); Cross runs every input length with every output length.'
        NumPrompts            = 'The number of requests per grid point. Use either this or -PromptsPerConcurrency.'
        PromptsPerConcurrency = 'The number of requests per grid point as a multiple of its concurrency (10 by default: 40 requests at concurrency 4, 640 at 64), so each point runs about the same number of waves.'
        RequestRate           = 'Requests per second released to the concurrency cap; Infinity (the default) releases all at once. Several values add a grid dimension.'
        Burstiness            = 'The gamma shape of the inter-arrival times when -RequestRate is finite: 1 (default) is a Poisson process, below 1 burstier, above 1 more even. The schedule is rescaled so the last request is released at NumPrompts / RequestRate seconds, as vLLM does.'
        RangeRatio            = 'Draw each request''s input and output length uniformly from [L*(1-r), L*(1+r)]; 0 (default) gives exact lengths.'
        Seed                  = 'Seeds the prompts and the arrival times (default 0): the same seed sends the same requests, so runs with FSE off and on see identical prompts.'
        WarmupRequests        = 'Requests sent with the first prompt, under the point''s concurrency cap, before each point''s timed run (default 0).'
        Label                 = 'A free text copied into every result (for example the engine or commit under test).'
        VocabSize             = 'The token ids random prompts are drawn from, [0, VocabSize): the tokenizer''s regular vocabulary without added special tokens (151643 for Qwen2/Qwen3). Needed when the server''s /v1/models gives no vocab_size (vLLM does not; fse-server does).'
        OutFile               = 'A CSV file each finished grid point is appended to at once (the header is written when the file is new; an existing file must hold benchmark results).'
    }
    Inputs      = @{ 'System.String' = 'A server URL.'; 'System.Object' = 'An FseServer handle (an object with a Url property).' }
    Outputs     = @{ 'Fse.Bench.FseBenchmarkResult' = 'One object per finished grid point.' }
    Examples    = @(
        @{ Code = 'Invoke-FseBenchmark -Server http://127.0.0.1:8000 -InputLength 1000,5000 -OutputLength 100,500 -Concurrency 4,16,64 -OutFile sweep.csv'; Remarks = 'Runs 1000/100 and 5000/500 at concurrency 4, 16 and 64 (six points, 10 requests per unit of concurrency), appending each finished point to sweep.csv.' }
        @{ Code = '$off = Invoke-FseBenchmark $serverOff -Seed 1; $on = Invoke-FseBenchmark $serverOn -Seed 1; Compare-FseResult -Baseline $off -Candidate $on -Format Markdown'; Remarks = 'Measures two servers with the same prompts and prints the FSE off/on table.' }
        @{ Code = 'Invoke-FseBenchmark http://gpu-box:8000 -VocabSize 151643 -InputLength 2000 -OutputLength 200 -Concurrency 32 -NumPrompts 500 -RequestRate 8 -Burstiness 0.5 -Label vllm-0.11'; Remarks = 'Measures a vLLM server (which does not report its vocabulary size) with bursty gamma arrivals at 8 requests/s.' }
        @{ Code = 'Invoke-FseBenchmark -Model tiny-qwen3-next -Fse Off,On -InputLength 64 -OutputLength 16 -Concurrency 1,4 -NumPrompts 8 | Compare-FseResult -Format Markdown'; Remarks = 'Starts fse-server with FSE off, runs the grid, stops it, does the same with FSE on, and prints the off/on table.' }
        @{ Code = 'Invoke-FseBenchmark $s -OutVariable results | Format-Table'; Remarks = '-OutVariable keeps the points that finished when Ctrl+C stops the sweep (an assignment such as $r = ... is abandoned by a stop).' }
    )
    Notes       = 'Error ids: InvalidBenchmarkGrid (terminating: bad lengths, pairing or counts), ServerStartFailed / ServerStartTimeout / ServerNotInstalled (-Model: the server of a mode did not start; its own error text is in the message), ServerUnreachable (no answer or an error from /v1/models, /tokenize), BenchmarkSetupFailed (no model served, vocabulary size unknown), OutFileWriteFailed. A failed request is not an error record: it is counted in Failed, its message kept in Errors, and a warning names the point. The prompts'' ids differ from vLLM''s for the same seed (a different generator); the procedure and the lengths are the same.'
    Links       = @('Compare-FseResult', 'Export-FseResult', 'Import-FseResult', 'Export-FsePlot', 'about_Fse')
}
