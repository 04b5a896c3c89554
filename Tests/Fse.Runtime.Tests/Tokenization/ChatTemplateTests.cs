using System.Text.Json;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Tokenization;

namespace Fse.Runtime.Tests.Tokenization;

/// <summary>ChatML rendering against Jinja2's rendering of the real templates (chat_templates.json).</summary>
public class ChatTemplateTests
{
    public static TheoryData<int> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TokenizerFixtures.PathOf("chat_templates.json")));
        var data = new TheoryData<int>();
        for (var i = 0; i < doc.RootElement.GetProperty("cases").GetArrayLength(); i++) data.Add(i);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RendersAsJinjaDoes(int index)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TokenizerFixtures.PathOf("chat_templates.json")));
        var c = doc.RootElement.GetProperty("cases")[index];
        var template = doc.RootElement.GetProperty("templates").GetProperty(c.GetProperty("template").GetString()!).GetString();
        var messages = c.GetProperty("messages").EnumerateArray().Select(m => (m[0].GetString()!, m[1].GetString()!)).ToList();
        var rendered = ChatMlTemplate.Parse(template, "tokenizer_config.json").Render(messages, c.GetProperty("add_generation_prompt").GetBoolean());
        Assert.Equal(c.GetProperty("expected").GetString(), rendered);
    }

    [Fact]
    public void Qwen3TemplateFromTheTokenizerConfig()
    {
        var qwen = TokenizerFixtures.Qwen3;
        var prompt = qwen.ApplyChatTemplate([("system", "Be brief."), ("user", "2+2?")], addGenerationPrompt: true);
        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n", prompt);
        var ids = qwen.Encode(prompt);
        Assert.Equal(151644, ids[0]);
        Assert.Equal(3, ids.Count(id => id == 151644));
        Assert.Equal(2, ids.Count(id => id == 151645));
        var t = ChatMlTemplate.Parse(qwen.ChatTemplate, "x");
        Assert.True(t.Qwen3Reasoning);
        Assert.True(t.ToolResponses);
        Assert.Null(t.DefaultSystem);
    }

    [Fact]
    public void DetectsTheDefaultSystemPromptOfQwen15()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TokenizerFixtures.PathOf("chat_templates.json")));
        var t = ChatMlTemplate.Parse(doc.RootElement.GetProperty("templates").GetProperty("qwen1.5").GetString(), "x");
        Assert.Equal("You are a helpful assistant.", t.DefaultSystem);
        Assert.False(t.KnownRolesOnly);
    }

    [Fact]
    public void RefusesTemplatesItCannotRender()
    {
        const string llama = "{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] + '<|eot_id|>' }}{% endfor %}";
        var e = Assert.Throws<CheckpointException>(() => ChatMlTemplate.Parse(llama, "/m/tokenizer_config.json"));
        Assert.Equal(CheckpointErrorKind.InvalidValue, e.Kind);
        Assert.Equal("chat_template", e.Key);
        Assert.Contains("/m/tokenizer_config.json", e.Message);
        Assert.Contains("ChatML", e.Message);
        var missing = Assert.Throws<CheckpointException>(() => Tokenizer.Load(TokenizerFixtures.PathOf("synthetic-b")).ApplyChatTemplate([("user", "x")], true));
        Assert.Equal(CheckpointErrorKind.MissingKey, missing.Kind);
        Assert.Equal("chat_template", missing.Key);
    }
}
