using Fse.Eval.Tasks;

namespace Fse.Eval.Data;

/// <summary>
/// Finds a task's data folder: the one given; else the folder named by the task's environment variable
/// (FSE_GSM8K_PATH for gsm8k); else, for a task read from a file, that file's folder. The module never downloads data.
/// </summary>
public static class TaskDataLocator
{
    public static string ResolveFolder(EvalTaskDefinition task, string? dataPath)
    {
        if (task.Generated is not null)
            throw new ArgumentException($"The task '{task.Name}' generates its data ({task.Generated}); it has no data folder.", nameof(task));
        if (!string.IsNullOrEmpty(dataPath)) return CheckFolder(task, dataPath, "the given data folder");
        if (task.DataPathVariable is { } variable && Environment.GetEnvironmentVariable(variable) is { Length: > 0 } fromEnv)
            return CheckFolder(task, fromEnv, $"{variable}");
        if (task.SourcePath is { } source) return Path.GetDirectoryName(source)!;
        var files = task.FewshotFile is null ? task.TestFile : $"{task.TestFile} and {task.FewshotFile}";
        var env = task.DataPathVariable is null ? "" : $" or set {task.DataPathVariable}";
        throw new EvalTaskException(EvalTaskErrorKind.DataPathRequired,
            $"The task '{task.Name}' needs a data folder holding {files}: give one (-DataPath){env}. The module never downloads data.");
    }

    private static string CheckFolder(EvalTaskDefinition task, string folder, string what) =>
        Directory.Exists(folder) ? Path.GetFullPath(folder)
            : throw new EvalTaskException(EvalTaskErrorKind.FileNotFound, $"The data folder '{folder}' ({what}, for the task '{task.Name}') does not exist.", folder);
}
