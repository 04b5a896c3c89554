using System.Text;
using System.Text.RegularExpressions;
using Fse.Runtime.Checkpoints;

namespace Fse.Runtime.Tokenization;

/// <summary>
/// Renders chat templates of the ChatML family without a Jinja engine. A template is accepted when it contains
/// &lt;|im_start|&gt; followed by the message role; what it renders is, for messages of role system, user,
/// assistant and tool with string content and no tool definitions:
/// <list type="bullet">
/// <item>every message as <c>&lt;|im_start|&gt;{role}\n{content}&lt;|im_end|&gt;\n</c>, and with a generation prompt
/// <c>&lt;|im_start|&gt;assistant\n</c> at the end;</item>
/// <item>a default system message when the template writes one as a literal (<c>'&lt;|im_start|&gt;system\n…&lt;|im_end|&gt;\n'</c>)
/// and the first message is not a system message (Qwen 1.5, Qwen 2, Qwen 2.5);</item>
/// <item>tool results as Qwen 2.5 and 3 write them when the template mentions &lt;tool_response&gt;: consecutive tool
/// messages grouped into one user turn, each as <c>\n&lt;tool_response&gt;\n{content}\n&lt;/tool_response&gt;</c>;</item>
/// <item>Qwen 3's reasoning rules when the template mentions reasoning_content: an assistant turn after the last
/// user query has its &lt;think&gt; block normalized (the last turn always gets one, empty if needed), earlier
/// turns lose theirs;</item>
/// <item>with Qwen 2.5 and 3 templates (those with tool responses or reasoning), messages of other roles are left out,
/// as those templates do; plain ChatML templates write any role.</item>
/// </list>
/// Not supported: tools, tool_calls, enable_thinking=false, non-string content, and any other template
/// (a <see cref="CheckpointException"/> naming chat_template).
/// </summary>
public sealed partial class ChatMlTemplate
{
    private ChatMlTemplate(string? defaultSystem, bool toolResponses, bool qwen3Reasoning)
    {
        KnownRolesOnly = toolResponses || qwen3Reasoning;
        DefaultSystem = defaultSystem;
        ToolResponses = toolResponses;
        Qwen3Reasoning = qwen3Reasoning;
    }

    /// <summary>The system message written when the conversation does not start with one, if the template has one.</summary>
    public string? DefaultSystem { get; }

    /// <summary>Whether tool messages are wrapped in &lt;tool_response&gt; inside a user turn.</summary>
    public bool ToolResponses { get; }

    /// <summary>Whether messages of roles other than system, user, assistant and tool are left out (Qwen 2.5 and 3 templates).</summary>
    public bool KnownRolesOnly { get; }

    /// <summary>Whether Qwen 3's &lt;think&gt; rules apply to assistant turns.</summary>
    public bool Qwen3Reasoning { get; }

    /// <summary>The template written into tokenizer_config.json by <see cref="BpeTrainer"/>: plain ChatML.</summary>
    public const string PlainChatMl =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /// <summary>Recognizes a template, or fails naming <paramref name="configPath"/> and the key chat_template.</summary>
    public static ChatMlTemplate Parse(string? template, string configPath)
    {
        if (template is null)
            throw new CheckpointException(CheckpointErrorKind.MissingKey, configPath, $"'{configPath}' has no chat template (key 'chat_template', or chat_template.jinja beside it).", "chat_template");
        if (!RoleAfterImStart().IsMatch(template))
            throw new CheckpointException(CheckpointErrorKind.InvalidValue, configPath,
                $"'{configPath}': key 'chat_template' is not a ChatML template (no <|im_start|> followed by the message role); only ChatML-family templates (Qwen) can be rendered without a Jinja engine.",
                "chat_template");
        var system = DefaultSystemLiteral().Match(template);
        return new ChatMlTemplate(
            system.Success ? Regex.Unescape(system.Groups["text"].Value) : null,
            template.Contains("<tool_response>", StringComparison.Ordinal),
            template.Contains("reasoning_content", StringComparison.Ordinal));
    }

    public string Render(IReadOnlyList<(string Role, string Content)> messages, bool addGenerationPrompt)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var sb = new StringBuilder();
        var startsWithSystem = messages.Count > 0 && messages[0].Role == "system";
        if (DefaultSystem is not null && messages.Count > 0 && !startsWithSystem)
            sb.Append("<|im_start|>system\n").Append(DefaultSystem).Append("<|im_end|>\n");
        var lastQuery = Qwen3Reasoning ? LastQueryIndex(messages) : -1;
        for (var i = 0; i < messages.Count; i++)
        {
            var (role, content) = messages[i];
            ArgumentNullException.ThrowIfNull(role);
            ArgumentNullException.ThrowIfNull(content);
            if (role == "tool" && ToolResponses)
            {
                if (i == 0 || messages[i - 1].Role != "tool") sb.Append("<|im_start|>user");
                sb.Append("\n<tool_response>\n").Append(content).Append("\n</tool_response>");
                if (i == messages.Count - 1 || messages[i + 1].Role != "tool") sb.Append("<|im_end|>\n");
                continue;
            }
            if (Qwen3Reasoning && role == "assistant")
            {
                sb.Append(Qwen3Assistant(content, i > lastQuery, i == messages.Count - 1)).Append("<|im_end|>\n");
                continue;
            }
            if (KnownRolesOnly && role is not ("user" or "system" or "assistant")) continue;
            sb.Append("<|im_start|>").Append(role).Append('\n').Append(content).Append("<|im_end|>\n");
        }
        if (addGenerationPrompt) sb.Append("<|im_start|>assistant\n");
        return sb.ToString();
    }

    // Qwen 3: the index of the last user message that is not a wrapped tool response.
    private static int LastQueryIndex(IReadOnlyList<(string Role, string Content)> messages)
    {
        for (var i = messages.Count - 1; i >= 0; i--)
        {
            var (role, content) = messages[i];
            if (role == "user" && !(content.StartsWith("<tool_response>", StringComparison.Ordinal) && content.EndsWith("</tool_response>", StringComparison.Ordinal)))
                return i;
        }
        return messages.Count - 1;
    }

    private static string Qwen3Assistant(string message, bool afterLastQuery, bool isLast)
    {
        var content = message;
        var reasoning = "";
        var close = message.IndexOf("</think>", StringComparison.Ordinal);
        if (close >= 0)
        {
            content = message[(message.LastIndexOf("</think>", StringComparison.Ordinal) + "</think>".Length)..].TrimStart('\n');
            var before = message[..close].TrimEnd('\n');
            var open = before.LastIndexOf("<think>", StringComparison.Ordinal);
            reasoning = (open >= 0 ? before[(open + "<think>".Length)..] : before).TrimStart('\n');
        }
        if (afterLastQuery && (isLast || reasoning.Length > 0))
            return "<|im_start|>assistant\n<think>\n" + reasoning.Trim('\n') + "\n</think>\n\n" + content.TrimStart('\n');
        return "<|im_start|>assistant\n" + content;
    }

    [GeneratedRegex(@"<\|im_start\|>'?\s*(?:\+|\}\})?\s*(?:\{\{-?)?\s*message(?:\.role|\[\s*['""]role['""]\s*\])")]
    private static partial Regex RoleAfterImStart();

    [GeneratedRegex(@"'<\|im_start\|>system\\n(?<text>[^'{}]+?)<\|im_end\|>\\n'")]
    private static partial Regex DefaultSystemLiteral();
}
