@{
    Synopsis    = 'Writes a random-weight checkpoint with the exact geometry of a named model preset.'
    Description = @'
New-FseModel writes a Hugging Face checkpoint directory (config.json and safetensors) whose tensors have the names and shapes of a real or tiny MoE model, filled with deterministic random weights. It is how performance work gets a Qwen3-Next-80B-A3B, Qwen1.5-MoE-A2.7B or GLM-4.5-Air sized model without a download, and how tests get small models of each family. HF transformers loads the result (AutoModelForCausalLM.from_pretrained), and Get-FseModel describes it.

Presets: qwen3-next-80b-a3b, qwen1.5-moe-a2.7b and glm-4.5-air carry the published config.json values of Qwen/Qwen3-Next-80B-A3B-Instruct, Qwen/Qwen1.5-MoE-A2.7B and zai-org/GLM-4.5-Air (GLM with num_nextn_predict_layers 0: no next-n layer is written). tiny-qwen3-next, tiny-qwen2-moe and tiny-glm4-moe are sub-million-parameter models that keep each family's features: hybrid linear/full attention; a shared expert wider than the routed ones (three FSE slots, zero-padded) and a dense layer; grouped sigmoid routing with a correction bias, two shared experts, qk-norm and attention bias.

Weights depend only on the seed, the tensor name and the element index, so the same -Seed gives byte-identical files on any machine and thread count. Scales keep a forward pass stable: projections 1/sqrt(fan-in), norms near their identity, a decisive router. Generation streams over all cores with a few MB of memory per core; weights above 4 GB are sharded with a model.safetensors.index.json as save_pretrained writes them.

Without -Tokenizer the checkpoint gets the module's built-in byte-level BPE tokenizer (tokenizer.json and tokenizer_config.json with a ChatML template), trained deterministically on an embedded English and arithmetic corpus and grown to exactly the preset's vocab_size, so text prompts, /tokenize and chat work; -NoTokenizer writes none (the checkpoint then works on token ids only). With -Tokenizer, tokenizer.json (and tokenizer_config.json beside it) is copied in after checking that every token id fits the preset's vocab_size; the check runs before any weight is written.
'@
    Parameters  = @{
        Preset    = 'The model preset: qwen3-next-80b-a3b, qwen1.5-moe-a2.7b, glm-4.5-air, tiny-qwen3-next, tiny-qwen2-moe or tiny-glm4-moe. Tab completion offers the names. Accepts pipeline input by value and by property name.'
        Path      = 'The checkpoint directory to write; created when missing. It must be empty unless -Force is given. Relative paths resolve against the current location.'
        Layers    = 'Overrides num_hidden_layers (1 to 1000), keeping the family''s layer pattern: qwen3_next keeps a full-attention layer every fourth layer, glm4_moe its leading dense layers, qwen2_moe the mlp_only_layers below the new count. Without it the preset''s own count is written.'
        Seed      = 'The seed of the random weights (default 0). The same seed gives byte-identical files.'
        DType     = 'The element type of the weights: bfloat16, float16 or float32 (BF16 rounds to nearest even). Defaults to the preset''s own: bfloat16 for the real models, float32 for the tiny ones. GLM''s e_score_correction_bias is always float32, as in hub checkpoints.'
        Tokenizer = 'A tokenizer.json file, or a directory holding one, to copy into the checkpoint (with tokenizer_config.json when it lies beside it). Every token id must be below the preset''s vocab_size, else nothing is written and the error TokenIdOutOfRange is reported.'
        NoTokenizer = 'Writes no tokenizer files: the checkpoint works on token ids only (a tokenizer left in the directory from before is kept, with a warning when its ids do not fit).'
        Force     = 'Writes into a directory that is not empty: config.json, model*.safetensors and model.safetensors.index.json there are replaced (and the tokenizer files unless -NoTokenizer); other files stay.'
    }
    Inputs      = @{ 'System.String' = 'A preset name.'; 'System.Management.Automation.PSObject' = 'An object with Preset, Path, Layers, Seed or DType properties.' }
    Outputs     = @{ 'Fse.Runtime.FseModelInfo' = 'The written checkpoint, as Get-FseModel describes it.' }
    Examples    = @(
        @{ Code = 'New-FseModel -Preset tiny-qwen3-next -Path ./tiny'; Remarks = 'Writes a 0.75M-parameter qwen3_next checkpoint in float32 to ./tiny and shows it.' }
        @{ Code = 'New-FseModel qwen3-next-80b-a3b ./q3n-8 -Layers 8 -DType bfloat16 -Verbose'; Remarks = 'Writes the first 8 layers of Qwen3-Next-80B-A3B (full attention at layers 3 and 7) with random weights; -Verbose reports the write speed.' }
        @{ Code = 'New-FseModel glm-4.5-air /data/air -Seed 7 -Tokenizer ~/glm-tokenizer -WhatIf'; Remarks = 'Shows the size of the full GLM-4.5-Air checkpoint without writing anything.' }
        @{ Code = '''tiny-qwen2-moe'', ''tiny-glm4-moe'' | ForEach-Object { New-FseModel $_ (Join-Path $HOME "models/$_") }'; Remarks = 'Writes two tiny models side by side.' }
    )
    Notes       = 'Error ids: DirectoryNotEmpty (ResourceExists), PathIsAFile, TokenIdOutOfRange, CheckpointFileNotFound (a missing tokenizer), CheckpointWriteFailed (disk full, no access). Ctrl+C stops the write and removes the files written so far.'
    Links       = @('Get-FseModel', 'about_Fse')
}
