@{
    Synopsis    = "Checks a served model's accuracy with lm-eval's gsm8k semantics (or a task defined in a file) against any OpenAI-compatible server."
    Description = @'
Invoke-FseAccuracy runs an lm-eval style generation task against an OpenAI-compatible server (fse-server, vLLM, SGLang, llama-server) and returns one FseAccuracyResult per filter: for gsm8k, strict-match and flexible-extract, each with Score (exact_match), Stderr, N (items scored), Invalid (items where the filter found no answer), Failed (items the server never answered), the model and FSE mode the server reports, and the run's settings.

It reproduces lm-eval's gsm8k task (version 3.0) exactly: the prompt is five few-shot examples "Question: {question}\nAnswer: {answer}" joined by blank lines, then "Question: {question}\nAnswer:"; the examples come from one random.Random(Seed) stream drawn in document order with Python's random.sample, so prompts are byte-for-byte lm-eval's (the FseAccuracyItem records carry each prompt's SHA-256). Each item is one POST /v1/completions with temperature 0, max_tokens 256, stop ["Question:", "</s>", "<|im_end|>"] and seed; the response is also cut at the first stop string on the client side, so a server that ignores stop is scored the same. strict-match takes the first "#### <number>", flexible-extract the last number in the response; exact_match ignores case, commas, "$", everything up to "#### " and a trailing ".". Stderr is the sample standard deviation over the square root of N.

The gsm8k data is lm-eval's JSONL (question, answer) in a folder holding test.jsonl and train.jsonl: give it with -DataPath or set the FSE_GSM8K_PATH environment variable. The module never downloads data. Other generation tasks are defined as data with -TaskFile: a JSON object (or an array of them, or one per line) shaped like an lm-eval task YAML, with a "data" object naming its JSONL files; see the Notes.

Requests run -Concurrency at a time. A 429, a 5xx, no response within -TimeoutSec or an answer without a choice is retried up to -MaxRetries times with exponential backoff (0.25 s doubling, at most 8 s); an item that still fails is written as a non-terminating error and counted in Failed, not scored as wrong. Progress shows items done and the running accuracy of each filter. Ctrl+C abandons the requests in flight; PowerShell accepts no output after Ctrl+C, so the results of the items that finished (Interrupted = True, N = items scored) are put in the global variable $FseAccuracyPartial and a warning says so.
'@
    Parameters  = @{
        Server     = 'The server: a URL such as http://127.0.0.1:8000 (with or without /v1), or an FseServer object from Start-FseServer (its Url, and its Fse, Model and Device when the server does not report them). Accepts pipeline input, so several servers can be piped in; each is checked in turn.'
        Task       = 'Built-in tasks to run (tab completion lists them). Default: gsm8k.'
        TaskFile   = 'One or more task definition files (JSON, a JSON array, or JSONL with one definition per line). Every task they define is run. Relative data files resolve against -DataPath, else the file''s own folder.'
        NumFewshot = 'Few-shot examples per prompt; overrides the task''s num_fewshot (5 for gsm8k). 0 gives zero-shot prompts.'
        Limit      = 'Scores only the first n test items (lm-eval''s --limit n); their prompts are the same as in a full run.'
        Concurrency = 'Requests in flight at once. Default: 8. Results do not depend on it for a server whose greedy decoding is batch-invariant.'
        DataPath   = 'The folder holding the task''s JSONL files (test.jsonl and train.jsonl for gsm8k). Required for gsm8k unless the FSE_GSM8K_PATH environment variable names one.'
        Seed       = 'The few-shot sampler''s seed (lm-eval''s fewshot_random_seed) and the seed field sent with each request. Default: 1234, as lm-eval.'
        MaxTokens  = 'max_tokens per request; overrides the task''s max_gen_toks (256 for gsm8k).'
        Model      = 'The model name to request. Default: the first model GET /v1/models lists (or the FseServer object''s Model when the server lists none).'
        MaxRetries = 'Further attempts for an item after a 429, a 5xx, a timeout or an answer without a choice. Default: 3. Other errors (e.g. 400 for a prompt that is too long) fail the item at once.'
        TimeoutSec = 'Seconds one request may take before it counts as unanswered and is retried. Default: 300.'
        Detailed   = 'Also emits an FseAccuracyItem per item and filter as items finish (in completion order): index, the prompt''s SHA-256, the response, the extracted answer, the reference, whether it matched. Use them to audit answers and for paired (McNemar) comparisons of two runs.'
    }
    Inputs      = @{ 'System.String' = 'A server URL.'; 'System.Management.Automation.PSObject' = 'An FseServer object (any object with a Url property).' }
    Outputs     = @{ 'Fse.Eval.FseAccuracyResult' = 'One per task and filter for each server.'; 'Fse.Eval.FseAccuracyItem' = 'With -Detailed, one per item and filter.' }
    Examples    = @(
        @{ Code = 'Invoke-FseAccuracy -Server http://127.0.0.1:8000 -Task gsm8k -DataPath ~/data/gsm8k'; Remarks = 'Runs lm-eval''s 5-shot gsm8k on all 1,319 test items and shows strict-match and flexible-extract with their stderr.' }
        @{ Code = '$env:FSE_GSM8K_PATH = ''~/data/gsm8k''; $off = Invoke-FseAccuracy $serverOff -Limit 200 -Detailed; $on = Invoke-FseAccuracy $serverOn -Limit 200 -Detailed'; Remarks = 'Checks the first 200 items with FSE off and on, keeping per-item records for a paired comparison (Compare-FseResult, or [Fse.Eval.Comparison.AccuracyComparison]::Compare).' }
        @{ Code = 'Invoke-FseAccuracy http://gpu-box:8000/v1 -Model Qwen/Qwen3-Next-80B-A3B-Instruct -Concurrency 64 | Export-Csv gsm8k.csv'; Remarks = 'Runs against a vLLM server with 64 requests in flight and saves the results as CSV.' }
        @{ Code = 'Invoke-FseAccuracy $s -TaskFile ./tasks/arith.json -Detailed | Where-Object { $_ -is [Fse.Eval.FseAccuracyItem] -and -not $_.Correct }'; Remarks = 'Runs a task defined in a file and lists the items it got wrong.' }
    )
    Notes       = @'
Task files: keys as in lm-eval task YAML: task, description, doc_to_text and doc_to_target ({{field}} substitutions only), target_delimiter (" "), fewshot_delimiter ("\n\n"), num_fewshot, fewshot_config.sampler (default or first_n), generation_kwargs (until, max_gen_toks, temperature), metric_list (one exact_match with ignore_case, ignore_punctuation, ignore_numbers, regexes_to_ignore), filter_list (regex with regex_pattern, group_select and fallback; take_first; lowercase; uppercase), metadata.version; plus "data": {"test": "test.jsonl", "fewshot": "train.jsonl", "path_env": "MY_TASK_PATH"}. Unknown keys are errors. Regular expressions are Python re patterns, translated to .NET for the constructs tasks use ((?P<name>), (?P=name), \Z).

Error ids: DataPathRequired, TaskFileNotFound, TaskDataMalformed (names the file and line), TaskDefinitionInvalid, UnknownTask, AccuracyServerUnavailable, AccuracyItemFailed (one per item not scored).
'@
    Links       = @('about_Fse', 'Get-FseModel')
}
