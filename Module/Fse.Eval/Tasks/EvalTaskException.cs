namespace Fse.Eval.Tasks;

/// <summary>What went wrong with a task definition or its data.</summary>
public enum EvalTaskErrorKind
{
    /// <summary>The definition is not valid JSON, has a key of the wrong type, an unknown key, or an unsupported value.</summary>
    InvalidDefinition,
    /// <summary>No built-in task has that name.</summary>
    UnknownTask,
    /// <summary>A definition or data file does not exist.</summary>
    FileNotFound,
    /// <summary>No data folder was given and the task's environment variable is not set.</summary>
    DataPathRequired,
    /// <summary>A data line is not a JSON object, or lacks a field the task needs.</summary>
    MalformedData,
}

/// <summary>A task definition or data file that cannot be used; the message names the file (and line, for data).</summary>
public sealed class EvalTaskException(EvalTaskErrorKind kind, string message, string? path = null, int? line = null, Exception? inner = null)
    : Exception(message, inner)
{
    public EvalTaskErrorKind Kind { get; } = kind;

    /// <summary>The file at fault, when there is one.</summary>
    public string? Path { get; } = path;

    /// <summary>The 1-based line of a JSONL file at fault.</summary>
    public int? Line { get; } = line;
}
