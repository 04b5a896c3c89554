using System.Management.Automation;
using Fse.Runtime.Checkpoints;

namespace Fse.Cmdlets.Internal;

/// <summary>Maps runtime checkpoint failures to ErrorRecords with stable ids and categories.</summary>
internal static class CheckpointErrors
{
    public static ErrorRecord ToErrorRecord(CheckpointException e, object? target) =>
        new(e, Id(e.Kind), Category(e.Kind), target ?? e.Path);

    public static string Id(CheckpointErrorKind kind) => kind switch
    {
        CheckpointErrorKind.DirectoryNotFound => "ModelDirectoryNotFound",
        CheckpointErrorKind.FileNotFound => "CheckpointFileNotFound",
        CheckpointErrorKind.MalformedJson => "MalformedJson",
        CheckpointErrorKind.MissingKey => "ConfigKeyMissing",
        CheckpointErrorKind.InvalidValue => "ConfigValueInvalid",
        CheckpointErrorKind.UnknownModelType => "UnknownModelType",
        CheckpointErrorKind.MalformedHeader => "SafetensorsHeaderMalformed",
        CheckpointErrorKind.Truncated => "CheckpointTruncated",
        CheckpointErrorKind.UnsupportedDType => "UnsupportedDType",
        CheckpointErrorKind.TensorMissing => "TensorMissing",
        CheckpointErrorKind.ShapeMismatch => "TensorShapeMismatch",
        CheckpointErrorKind.TokenOutOfRange => "TokenIdOutOfRange",
        _ => kind.ToString(),
    };

    public static ErrorCategory Category(CheckpointErrorKind kind) => kind switch
    {
        CheckpointErrorKind.DirectoryNotFound or CheckpointErrorKind.FileNotFound or CheckpointErrorKind.TensorMissing => ErrorCategory.ObjectNotFound,
        CheckpointErrorKind.UnknownModelType or CheckpointErrorKind.UnsupportedDType => ErrorCategory.NotImplemented,
        CheckpointErrorKind.TokenOutOfRange => ErrorCategory.InvalidArgument,
        _ => ErrorCategory.InvalidData,
    };
}
