namespace Fse.Runtime.Checkpoints;

/// <summary>What was wrong with a checkpoint, so callers can map it to an error category without parsing text.</summary>
public enum CheckpointErrorKind
{
    DirectoryNotFound,
    FileNotFound,
    MalformedJson,
    MissingKey,
    InvalidValue,
    UnknownModelType,
    MalformedHeader,
    Truncated,
    UnsupportedDType,
    TensorMissing,
    ShapeMismatch,
    TokenOutOfRange,

    /// <summary>Two safetensors files of one checkpoint hold a tensor of the same name.</summary>
    DuplicateTensor,
}

/// <summary>A checkpoint, config or tokenizer file that cannot be used. The message names the file and the key or tensor.</summary>
public sealed class CheckpointException : Exception
{
    public CheckpointException(CheckpointErrorKind kind, string path, string message, string? key = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        Path = path;
        Key = key;
    }

    public CheckpointErrorKind Kind { get; }

    /// <summary>The file or directory at fault.</summary>
    public string Path { get; }

    /// <summary>The JSON key or tensor name at fault, when there is one.</summary>
    public string? Key { get; }
}
