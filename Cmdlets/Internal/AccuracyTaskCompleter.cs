using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Fse.Eval.Tasks;

namespace Fse.Cmdlets.Internal;

/// <summary>Tab-completes -Task with the built-in task names.</summary>
public sealed class AccuracyTaskCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        EvalTaskParser.BuiltInNames
            .Where(n => n.StartsWith(wordToComplete, StringComparison.OrdinalIgnoreCase))
            .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, $"built-in task {n}"));
}
