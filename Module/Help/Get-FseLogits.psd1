@{
    Synopsis    = 'Runs a checkpoint over token ids and returns the logits of every position.'
    Description = @'
Get-FseLogits loads a checkpoint directory (config.json and safetensors, validated against the model's tensor manifest) in this PowerShell process, runs one prefill step over -TokenIds and returns an FseLogits object whose Logits property is a float[][] of position × vocabulary: row i scores the token that follows TokenIds[i]. Argmax gives each row's most likely next token.

-Fse chooses the weight plan: On (default) folds the shared expert into the routed-expert kernel as extra expert slots with a fused router gate; Off keeps it separate. Both compute the same function; Test-FseParity compares them. The model is loaded for the call and released afterwards.
'@
    Parameters  = @{
        Model    = 'A checkpoint directory in Hugging Face hub layout (qwen2_moe, qwen3_next or glm4_moe). Accepts the property names Path and FullName from the pipeline.'
        TokenIds = 'The token ids to score; each must be below the model''s vocab_size. From the pipeline as one array per call.'
        Fse      = 'On (default) or Off: whether the shared expert runs as expert slots of the grouped kernel (FSE) or beside it.'
        Device   = 'Auto (default), Cpu or Cuda: where the model runs. Auto picks CUDA when a device and the CUDA backend are present, else the CPU.'
    }
    Inputs      = @{ 'System.Int32[]' = 'Token ids to score.' }
    Outputs     = @{ 'Fse.Runtime.Inference.FseLogits' = 'Model, Fse, Device, TokenIds, Logits (position × vocab), Positions, VocabSize, Argmax.' }
    Examples    = @(
        @{ Code = '$l = Get-FseLogits -Model ./tiny -TokenIds 1, 2, 3; $l.Logits[2][0..4]'; Remarks = 'Scores three tokens and shows the first five logits of the last position.' }
        @{ Code = '(Get-FseLogits ./tiny -TokenIds (ConvertTo-FseToken -Tokenizer ./tiny -Text "2 + 2 =")).Argmax'; Remarks = 'The most likely next token after each prefix of an encoded prompt.' }
    )
    Notes       = 'Error ids: ModelDirectoryNotFound, CheckpointFileNotFound, TensorMissing, TensorShapeMismatch, UnsupportedDType, TokenIdOutOfRange, DeviceUnavailable.'
    Links       = @('Invoke-FseGenerate', 'Test-FseParity', 'about_Fse')
}
