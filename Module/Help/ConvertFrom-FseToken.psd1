@{
    Synopsis    = 'Decodes token ids back into text with a Hugging Face tokenizer (tokenizer.json), exactly as HF does.'
    Description = @'
ConvertFrom-FseToken loads a Hugging Face tokenizer (tokenizer.json, byte-level BPE) and writes the text of each sequence of token ids, as Hugging Face tokenizers' decode(ids, skip_special_tokens) gives it: the bytes of the tokens are joined and read as UTF-8, and a malformed sequence (for example a multi-byte character cut in half) becomes U+FFFD.

Each pipeline object is one sequence. ConvertTo-FseToken writes each sequence as one int[] object, so ConvertTo-FseToken ... | ConvertFrom-FseToken ... gives the texts back. A bare array piped in is unrolled by PowerShell into single ids, each of which would be decoded alone: pass it with -TokenIds $ids, or keep it whole with the unary comma (,$ids | ConvertFrom-FseToken ...).
'@
    Parameters  = @{
        Tokenizer         = 'A directory holding tokenizer.json (and optionally tokenizer_config.json), or the path of a tokenizer.json, or the name of a model shipped with the module (''default''). Relative paths resolve against the current location. A path that is missing or cannot be read is a terminating error.'
        TokenIds          = 'One sequence of token ids, from the parameter or the pipeline (by value, or by the property names TokenIds, Ids and TokenId). An id outside the vocabulary writes a non-terminating TokenIdOutOfRange error naming the id and the vocabulary size, and the next sequence is decoded.'
        SkipSpecialTokens = 'Leaves out special tokens such as <|im_start|>, <|im_end|> and <|endoftext|> (added tokens marked special); added tokens that are not special, such as <think>, are kept.'
    }
    Inputs      = @{ 'System.Int32[]' = 'A sequence of token ids.' }
    Outputs     = @{ 'System.String' = 'The text of one sequence.' }
    Examples    = @(
        @{ Code = 'ConvertFrom-FseToken -Tokenizer ./qwen3 -TokenIds 9707, 1879'; Remarks = 'Writes "Hello world" for the Qwen3 tokenizer.' }
        @{ Code = '''héllo 👋'', ''数学'' | ConvertTo-FseToken ./qwen3 | ConvertFrom-FseToken ./qwen3'; Remarks = 'A round trip: each text is encoded to one int[] and decoded back.' }
        @{ Code = 'ConvertFrom-FseToken ./qwen3 151644, 872, 198, 6023, 151645 -SkipSpecialTokens'; Remarks = 'Writes "user`nhi": <|im_start|> and <|im_end|> are left out.' }
    )
    Notes       = 'Error ids: TokenIdOutOfRange (InvalidArgument, non-terminating), and for the tokenizer path: ModelDirectoryNotFound, CheckpointFileNotFound, MalformedJson, ConfigKeyMissing, ConfigValueInvalid, UnknownModelType (terminating).'
    Links       = @('ConvertTo-FseToken', 'about_Fse')
}
