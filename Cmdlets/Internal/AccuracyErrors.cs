using System.Management.Automation;
using Fse.Client;
using Fse.Eval.Running;
using Fse.Eval.Tasks;

namespace Fse.Cmdlets.Internal;

/// <summary>Maps accuracy-check failures to ErrorRecords with stable ids and categories.</summary>
internal static class AccuracyErrors
{
    public static ErrorRecord FromTask(EvalTaskException e, object? target) => new(e, e.Kind switch
    {
        EvalTaskErrorKind.InvalidDefinition => "TaskDefinitionInvalid",
        EvalTaskErrorKind.UnknownTask => "UnknownTask",
        EvalTaskErrorKind.FileNotFound => "TaskFileNotFound",
        EvalTaskErrorKind.DataPathRequired => "DataPathRequired",
        EvalTaskErrorKind.MalformedData => "TaskDataMalformed",
        _ => e.Kind.ToString(),
    }, e.Kind switch
    {
        EvalTaskErrorKind.UnknownTask or EvalTaskErrorKind.FileNotFound => ErrorCategory.ObjectNotFound,
        EvalTaskErrorKind.DataPathRequired => ErrorCategory.InvalidArgument,
        _ => ErrorCategory.InvalidData,
    }, e.Path ?? target);

    public static ErrorRecord ServerUnavailable(OpenAiException e, ServerTarget server) =>
        new(e, "AccuracyServerUnavailable", e.StatusCode is null ? ErrorCategory.ConnectionError : ErrorCategory.InvalidResult, server.ToString());

    public static ErrorRecord ItemFailed(string task, AccuracyItemOutcome outcome) =>
        new(new InvalidOperationException($"{task} item {outcome.Index} was not scored: {outcome.Error}"), "AccuracyItemFailed",
            ErrorCategory.ConnectionError, $"{task}[{outcome.Index}]");
}
