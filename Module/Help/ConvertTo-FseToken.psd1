@{
    Synopsis    = 'Encodes text into token ids with a Hugging Face tokenizer (tokenizer.json), exactly as HF does.'
    Description = @'
ConvertTo-FseToken loads a Hugging Face tokenizer (tokenizer.json with byte-level BPE, as Qwen2, Qwen3, GPT-2 and Llama 3 use; tokenizer_config.json beside it is read too) and writes the token ids of each text, as Hugging Face tokenizers' encode(text) gives them: added and special tokens written in the text (such as <|im_start|>) become their ids, the text between them is normalized (NFC for Qwen), split by the pre-tokenizer's pattern and encoded with BPE.

Each text gives one int[] object, so a pipeline keeps the sequences apart: 'a', 'b' | ConvertTo-FseToken $t writes two arrays, and $ids = ConvertTo-FseToken $t 'hello' is an int[]. To see one id per line, pipe the result to ForEach-Object { $_ } or index it. The tokenizer is loaded once per invocation (about a third of a second for Qwen's 151,669-token vocabulary) and then encodes about 10 MB of text a second.
'@
    Parameters  = @{
        Tokenizer       = 'A directory holding tokenizer.json (and optionally tokenizer_config.json), or the path of a tokenizer.json, or the name of a model shipped with the module (''default''). Relative paths resolve against the current location. A path that is missing or cannot be read is a terminating error.'
        Text            = 'The texts to encode, from the parameter or the pipeline (by value, or by the property names Text, Prompt and Content). The empty string gives an empty int[].'
        NoSpecialTokens = 'Leaves out the tokens that the tokenizer''s post-processor adds around a text (a BOS, for tokenizers with a TemplateProcessing post-processor). Qwen''s tokenizer adds none, so this changes nothing for it. Special tokens written in the text are still encoded.'
    }
    Inputs      = @{ 'System.String' = 'A text to encode.' }
    Outputs     = @{ 'System.Int32[]' = 'The token ids of one text, written as one object.' }
    Examples    = @(
        @{ Code = '$ids = ConvertTo-FseToken -Tokenizer ./qwen3 -Text ''Hello world'''; Remarks = 'Encodes one text: $ids is the int[] 9707, 1879 for the Qwen3 tokenizer.' }
        @{ Code = 'Get-Content questions.txt | ConvertTo-FseToken ./qwen3 | ForEach-Object { $_.Count } | Measure-Object -Sum -Average'; Remarks = 'Counts the tokens of each line of a file, then their total and mean.' }
        @{ Code = 'ConvertTo-FseToken ./qwen3 "<|im_start|>user`nHi<|im_end|>`n<|im_start|>assistant`n"'; Remarks = 'Special tokens in the text become their ids (151644, 151645 for Qwen), as Hugging Face does by default.' }
    )
    Notes       = 'Supported tokenizer.json: model BPE; normalizers NFC, NFD, NFKC, NFKD, Sequence; pre-tokenizers Split, ByteLevel, Sequence; post-processors ByteLevel, TemplateProcessing, Sequence; decoder ByteLevel. Error ids: ModelDirectoryNotFound, CheckpointFileNotFound (no tokenizer.json), MalformedJson, ConfigKeyMissing, ConfigValueInvalid (including components that are not supported), UnknownModelType (a model other than BPE).'
    Links       = @('ConvertFrom-FseToken', 'about_Fse')
}
