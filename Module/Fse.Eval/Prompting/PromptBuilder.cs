using System.Text;
using Fse.Eval.Data;
using Fse.Eval.Tasks;

namespace Fse.Eval.Prompting;

/// <summary>
/// Assembles a prompt exactly as lm-eval's <c>fewshot_context</c> does for a plain-text (non-chat) completion model:
/// the rendered description, then for each few-shot example <c>doc_to_text + target_delimiter + doc_to_target +
/// fewshot_delimiter</c>, then the evaluated document's <c>doc_to_text</c> with nothing after it. For gsm8k:
/// <c>"Question: {q}\nAnswer: {answer}\n\n"</c> five times, then <c>"Question: {q}\nAnswer:"</c>.
/// </summary>
public static class PromptBuilder
{
    public static string Build(EvalTaskDefinition task, EvalDocument doc, IReadOnlyList<EvalDocument> fewshot)
    {
        var sb = new StringBuilder();
        if (task.Description is { } description) sb.Append(description.Render(doc));
        foreach (var example in fewshot)
        {
            sb.Append(task.DocToText.Render(example));
            var target = task.DocToTarget.Render(example);
            // lm-eval's build_qa_turn adds the target delimiter only when there is an answer to follow it.
            if (target.Length > 0) sb.Append(task.TargetDelimiter).Append(target).Append(task.FewshotDelimiter);
        }
        sb.Append(task.DocToText.Render(doc));
        return sb.ToString();
    }
}
