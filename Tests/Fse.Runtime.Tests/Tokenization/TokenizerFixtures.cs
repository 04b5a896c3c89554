using System.Text.Json;
using Fse.Runtime.Tokenization;
using Fse.Tests;

namespace Fse.Runtime.Tests.Tokenization;

/// <summary>Where the tokenizer test data lives, and the tokenizers loaded once for all tests.</summary>
internal static class TokenizerFixtures
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizer");

    public static string PathOf(string name) => Path.Combine(Directory, name);

    public static string Qwen3Directory => SharedData.PathOf("qwen3-tokenizer");

    private static readonly Lazy<Tokenizer> Qwen3Lazy = new(() => Tokenizer.Load(Qwen3Directory));

    public static Tokenizer Qwen3 => Qwen3Lazy.Value;

    /// <summary>The tokenizer a fixture calls by name: "qwen3" (shared data) or a folder under Fixtures/tokenizer.</summary>
    public static Tokenizer ByName(string name) => name == "qwen3" ? Qwen3 : Tokenizer.Load(PathOf(name));

    public static IReadOnlyList<(string Name, string Text)> HardCases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(PathOf("hard_cases.json")));
        return [.. doc.RootElement.EnumerateArray().Select(e => (e.GetProperty("name").GetString()!, e.GetProperty("text").GetString()!))];
    }

    public static IReadOnlyList<string> Gsm8kTestQuestions() =>
        [.. File.ReadLines(SharedData.PathOf("gsm8k", "test.jsonl")).Where(l => l.Length > 0)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("question").GetString()!)];

    public static int[] Ints(JsonElement array) => [.. array.EnumerateArray().Select(x => x.GetInt32())];

    /// <summary>A directory under the system temp folder, deleted on dispose.</summary>
    public sealed class TempDirectory : IDisposable
    {
        public TempDirectory() => System.IO.Directory.CreateDirectory(Path);

        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fse-tok-" + Guid.NewGuid().ToString("N"));

        public string Write(string name, string content)
        {
            var file = System.IO.Path.Combine(Path, name);
            File.WriteAllText(file, content);
            return file;
        }

        public void Dispose()
        {
            try { System.IO.Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }
}
