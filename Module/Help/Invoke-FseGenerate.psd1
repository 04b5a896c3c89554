@{
    Synopsis    = 'Generates tokens from a prompt with a checkpoint in this process.'
    Description = @'
Invoke-FseGenerate loads a checkpoint directory in this PowerShell process, encodes -Prompt with the checkpoint's tokenizer (or takes -TokenIds), runs one prefill step and then one decode step per new token, and returns an FseGeneration with the new token ids, their text, why it stopped and the timings (prefill, decode, decode tokens per second).

Greedy decoding (temperature 0, ties to the lower token id) is the default; -Temperature, -TopP and -Seed sample instead. Generation stops at the checkpoint's end-of-sequence tokens (config.json eos_token_id and the tokenizer's eos token) unless -IgnoreEos, or after -MaxTokens. Progress is shown per token; Ctrl+C stops generation.

For many concurrent requests, serve the model with Start-FseServer instead; this cmdlet runs one sequence.
'@
    Parameters  = @{
        Model       = 'A checkpoint directory in Hugging Face hub layout. Accepts the property names Path and FullName from the pipeline.'
        Prompt      = 'The prompt text; needs tokenizer.json in the checkpoint. From the pipeline.'
        TokenIds    = 'The prompt as token ids instead of text (for checkpoints without a tokenizer).'
        MaxTokens   = 'The most new tokens to generate (default 64).'
        Temperature = '0 (default) is greedy; above 0 samples from softmax(logits / temperature).'
        TopP        = 'Nucleus sampling: keep the most likely tokens whose probabilities add up to TopP (default 1, all).'
        Seed        = 'Seed of the sampler, for reproducible sampling.'
        IgnoreEos   = 'Keep generating past end-of-sequence tokens until MaxTokens.'
        Fse         = 'On (default) or Off: the FSE weight plan; both generate the same tokens.'
        Device      = 'Auto (default), Cpu or Cuda.'
    }
    Inputs      = @{ 'System.String' = 'A prompt.' }
    Outputs     = @{ 'Fse.Runtime.Inference.FseGeneration' = 'Model, Fse, Device, PromptTokenIds, TokenIds, Text, FinishReason (stop or length), PrefillMs, DecodeMs, DecodeTokensPerSecond.' }
    Examples    = @(
        @{ Code = 'Invoke-FseGenerate -Model ./tiny -Prompt "Question: Tom has 3 apples." -MaxTokens 32'; Remarks = 'Greedy continuation of a prompt.' }
        @{ Code = 'Invoke-FseGenerate ./tiny -TokenIds 5, 9, 2 -MaxTokens 16 -IgnoreEos -Fse Off | Select-Object TokenIds, DecodeTokensPerSecond'; Remarks = 'Generates exactly 16 tokens from token ids with FSE off and shows the decode speed.' }
        @{ Code = '"Once", "Twice" | Invoke-FseGenerate -Model ./tiny -Temperature 0.8 -Seed 1 | Format-Table Text, FinishReason'; Remarks = 'Samples a continuation for each piped prompt.' }
    )
    Notes       = 'Error ids: as Get-FseLogits, plus EmptyPrompt; a checkpoint without tokenizer.json gives CheckpointFileNotFound for -Prompt (use -TokenIds).'
    Links       = @('Get-FseLogits', 'Start-FseServer', 'about_Fse')
}
