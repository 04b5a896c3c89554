@{
    Synopsis    = 'Starts an OpenAI-compatible server (fse-server, or any other engine) as a child process, or attaches to a running one.'
    Description = @'
Start-FseServer starts fse-server, the module's own OpenAI-compatible server, as a child process serving one model: a checkpoint directory (hub layout) or a preset generated in memory (tiny-qwen3-next, tiny-qwen2-moe, tiny-glm4-moe, qwen3-next-80b-a3b, qwen1.5-moe-a2.7b, glm-4.5-air), with FSE on or off, on the CPU or (in builds that carry it) CUDA. The server runs in its own process so a crash or a GPU context never lives in the PowerShell session. Start-FseServer waits until the server answers /health and returns an FseServer handle: Id, Url (the server root such as http://127.0.0.1:8000, without /v1), Model, Fse, Device, Pid, LogPath, StartedAt and ApiKey. Client cmdlets such as Invoke-FseBenchmark and Invoke-FseAccuracy take the handle as -Server and pick up its URL, API key, model, FSE mode and device.

fse-server serves /health, /v1/models (with fse, device, max_model_len and vocab_size), /v1/completions, /v1/chat/completions, /tokenize, /detokenize and /metrics (Prometheus, vLLM's metric names, and fse: ones for KV blocks and state slots, engine steps, and decode steps recorded into and replayed from CUDA graphs), batches requests continuously (requests join and leave the running batch at every step, long prompts are prefilled in chunks, a paged KV cache with preemption by recompute), and on SIGTERM stops admitting requests, lets running ones finish within a grace period and exits 0. -Port 0 (the default) lets the server pick a free port; its URL is on the handle. With -ApiKey, /v1/* requires 'Authorization: Bearer <key>' and /health does not; the key reaches the server through its environment, not its command line. The server's standard output and error go to -LogPath (a file under the temporary folder by default); when it fails to start, the error says why in the server's own words, from that log.

-Engine External -Command <exe> -ArgumentList ... -Environment @{...} -Url <url> starts any other OpenAI-compatible engine the same way (for example vllm serve with its FSE switch VLLM_ROCM_USE_AITER_FUSION_SHARED_EXPERTS=0 or 1 in -Environment), waits until <url>/health answers, and manages it like fse-server. -Url alone attaches to a server that is already running (it must answer /v1/models); Stop-FseServer then only forgets it.

Servers started in a session are stopped when the module is removed or PowerShell exits; fse-server also exits by itself when the PowerShell process that started it is gone.
'@
    Parameters  = @{
        Model               = 'fse-server: a checkpoint directory (config.json, *.safetensors, and tokenizer.json for text prompts) or a preset name. Relative and PowerShell paths are resolved; a name that is not an existing directory is passed as a preset. Accepts pipeline input, including Get-FseModel output (its Path). External and -Url: recorded on the handle as the model served (by default read from /v1/models).'
        Fse                 = 'On (the default) folds the shared expert into the routed-expert kernel; Off runs it beside the routed experts. Both compute the same function. External and -Url: recorded on the handle only (the engine''s own switch goes in -Environment or -ArgumentList).'
        Device              = 'Auto (the default), Cpu or Cuda. Auto picks the best backend this build carries. External and -Url: recorded on the handle only.'
        Port                = 'The port fse-server listens on; 0 (the default) picks a free one.'
        BindAddress         = 'The address fse-server listens on (default 127.0.0.1, loopback only; 0.0.0.0 for every interface).'
        ApiKey              = 'An API key: fse-server requires it on /v1/*; for External and attached servers it is the key clients send. Kept on the handle so client cmdlets send it.'
        ServedModelName     = 'The model id clients use (default: -Model as given).'
        MaxNumSeqs          = 'The most sequences in one engine step (vLLM --max-num-seqs; default 256).'
        MaxModelLen         = 'The longest prompt plus output accepted (default: the model''s max_position_embeddings). A longer request is refused with HTTP 400.'
        GpuMemoryUtilization = 'On a GPU: the share of its memory (0.01 to 1, default 0.9) the server plans with before anything loads: the weights, one linear-attention state per -MaxNumSeqs and the step workspace come first and the KV cache gets the rest; a plan that cannot hold one full-length sequence stops the start with the server''s breakdown of the numbers (like vLLM''s --gpu-memory-utilization). Ignored on the CPU.'
        MaxNumBatchedTokens = 'The most tokens in one engine step (default 2048); longer prompts are prefilled in chunks.'
        Layers              = 'Presets only: overrides the preset''s layer count.'
        Seed                = 'Presets only: the random-weight seed (default 0), as New-FseModel -Seed.'
        ArgumentList        = 'fse-server: more command-line options (see fse-server --help, e.g. --kv-cache-memory 1GiB, --shutdown-timeout 30). External: the engine''s arguments, e.g. serve Qwen/Qwen3-Next-80B-A3B-Instruct --port 8000.'
        Engine              = 'External starts -Command instead of fse-server (with -Url giving where it will listen).'
        Command             = 'External: the program to start (a name on PATH or a path), e.g. vllm or python3.'
        Environment         = 'External: environment variables for the engine, e.g. @{ VLLM_ROCM_USE_AITER_FUSION_SHARED_EXPERTS = ''1'' }. A $null value removes an inherited variable.'
        WorkingDirectory    = 'External: the engine''s working directory (default: the current location).'
        Url                 = 'External: the server root the engine will listen on (its /health is polled until it answers). Alone: a running server to attach to.'
        LogPath             = 'The file the server''s standard output and error are appended to (default: a new file under the temporary folder''s fse directory).'
        StartTimeoutSeconds = 'How long to wait for the server to answer /health before it is stopped and an error is raised (default 300 for fse-server, 600 for External).'
    }
    Inputs      = @{ 'System.String' = 'A model: a checkpoint directory or a preset name.'; 'Fse.Runtime.FseModelInfo' = 'A checkpoint, through its Path property.' }
    Outputs     = @{ 'Fse.Cmdlets.FseServer' = 'The handle of the started or attached server.' }
    Examples    = @(
        @{ Code = '$s = Start-FseServer -Model tiny-qwen3-next -Fse On; Invoke-RestMethod "$($s.Url)/v1/models"; Stop-FseServer $s'; Remarks = 'Serves the tiny Qwen3-Next preset on a free port, lists its model and stops it.' }
        @{ Code = '$off = Start-FseServer ./qwen3-next -Fse Off -Device Cuda -Port 8000; $on = Start-FseServer ./qwen3-next -Fse On -Device Cuda -Port 8001'; Remarks = 'Serves one checkpoint twice, FSE off and on, for a side-by-side benchmark.' }
        @{ Code = 'Start-FseServer -Engine External -Command vllm -ArgumentList serve, Qwen/Qwen3-Next-80B-A3B-Instruct, --port, 8000, --tensor-parallel-size, 8 -Environment @{ VLLM_ROCM_USE_AITER_FUSION_SHARED_EXPERTS = ''1'' } -Url http://127.0.0.1:8000 -Fse On'; Remarks = 'Starts vLLM with its FSE switch on and manages it like fse-server.' }
        @{ Code = '$s = Start-FseServer -Url http://gpu-box:8000 -ApiKey $key; Invoke-FseBenchmark $s'; Remarks = 'Attaches to a running server; Stop-FseServer $s later only forgets it.' }
    )
    Notes       = 'Error ids (terminating): ServerNotInstalled (no server folder beside the module), ModelDirectoryNotFound, ServerStartFailed (the server exited before it was ready; the message carries its own error text, e.g. a port in use or a bad checkpoint), ServerStartTimeout, CommandNotFound, InvalidServerUrl, ServerUnreachable (-Url: nothing answers /v1/models), InvalidEngine.'
    Links       = @('Get-FseServer', 'Stop-FseServer', 'Invoke-FseBenchmark', 'Invoke-FseAccuracy', 'about_Fse')
}
