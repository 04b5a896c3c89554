@{
    Synopsis    = "Reads a Hugging Face MoE checkpoint's config.json and describes its geometry."
    Description = @'
Get-FseModel reads config.json from one or more checkpoint directories (hub layout: qwen2_moe, qwen3_next or glm4_moe) and returns an FseModelInfo per directory: architecture, layer counts by kind, routed experts, top-k, shared experts and their width, the expert slots the shared expert takes under Fused Shared Expert (FSE), hidden size, vocabulary, dtype, total and active parameter counts and the bytes of the weights.

Both the hub layout (top-level rope_theta, torch_dtype) and the newer one (rope_parameters, dtype) are read. A directory that cannot be read gives a non-terminating error naming the path and the key at fault, and the pipeline goes on with the next directory.
'@
    Parameters  = @{
        Path = 'One or more checkpoint directories holding config.json. Relative paths resolve against the current location. Accepts pipeline input by value and by the property names FullName, PSPath and Model, so Get-ChildItem output can be piped in.'
    }
    Inputs      = @{ 'System.String' = 'A checkpoint directory.'; 'System.IO.DirectoryInfo' = 'A checkpoint directory, through its FullName property.' }
    Outputs     = @{ 'Fse.Runtime.FseModelInfo' = 'One object per readable checkpoint directory.' }
    Examples    = @(
        @{ Code = 'Get-FseModel -Path ./qwen3-next'; Remarks = 'Describes the checkpoint in ./qwen3-next as a table row.' }
        @{ Code = 'Get-ChildItem ~/models -Directory | Get-FseModel | Sort-Object ActiveParameterCount | Format-Table Name, Experts, TopK, SharedExpertSlots'; Remarks = 'Describes every checkpoint under ~/models; directories that are not checkpoints write an error and are skipped.' }
        @{ Code = 'Get-FseModel ./glm-4.5-air | Format-List *'; Remarks = 'Shows every property, including the shared-expert width and the routing kind (sigmoid-grouped for glm4_moe).' }
    )
    Notes       = 'Error ids: ModelDirectoryNotFound, CheckpointFileNotFound (no config.json), MalformedJson, ConfigKeyMissing, ConfigValueInvalid, UnknownModelType.'
    Links       = @('about_Fse')
}
