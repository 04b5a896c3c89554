using System.Text.Json;
using Fse.Runtime.Tokenization;

namespace Fse.Runtime.Tests.Tokenization;

/// <summary>
/// Exactness against Hugging Face itself: Fixtures/tokenizer/qwen3_expected.json is written by
/// tools/fixtures/make_tokenizer_fixtures.py on a machine with HF tokenizers/transformers (the GPU machine):
/// the ids and decodes of every hard case and every GSM8K test question for Qwen3 and for BpeTrainer's built-in
/// 4096 tokenizer (committed under Fixtures/tokenizer), and of the hard cases for the synthetic tokenizers there. Every case
/// is compared exactly. Without the file this test fails, on purpose: exactness must not pass unchecked.
/// </summary>
public class HfGeneratedFixtureTests
{
    private static string FixturePath => TokenizerFixtures.PathOf("qwen3_expected.json");

    [Fact]
    public void Qwen3ExpectedJson_FromHuggingFace_MatchesEveryCaseExactly()
    {
        Assert.True(File.Exists(FixturePath),
            $"The HF-generated fixture is missing: {FixturePath}. Generate it on a machine with Hugging Face tokenizers: " +
            "python3 tools/fixtures/make_tokenizer_fixtures.py --tokenizer <shared/data/qwen3-tokenizer> --gsm8k <shared/data/gsm8k/test.jsonl> " +
            "--extra-tokenizer Tests/Fse.Runtime.Tests/Fixtures/tokenizer/builtin-4096 --extra-hard-cases-only Tests/Fse.Runtime.Tests/Fixtures/tokenizer/synthetic-a " +
            "--extra-hard-cases-only Tests/Fse.Runtime.Tests/Fixtures/tokenizer/synthetic-b --out Tests/Fse.Runtime.Tests/Fixtures/tokenizer/qwen3_expected.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(FixturePath));
        var failures = new List<string>();
        var compared = 0;
        foreach (var t in doc.RootElement.GetProperty("tokenizers").EnumerateObject())
        {
            var tok = TokenizerFixtures.ByName(t.Name);
            foreach (var section in new[] { "cases", "gsm8k" })
            {
                if (!t.Value.TryGetProperty(section, out var cases)) continue;
                foreach (var c in cases.EnumerateArray())
                {
                    compared++;
                    var text = c.GetProperty("text").GetString()!;
                    var expected = TokenizerFixtures.Ints(c.GetProperty("ids"));
                    var ids = tok.Encode(text);
                    var label = $"{t.Name}/{section}/{(c.TryGetProperty("name", out var n) ? n.GetString() : compared.ToString())}";
                    if (!ids.AsSpan().SequenceEqual(expected))
                        failures.Add($"{label}: ids [{string.Join(",", ids.Take(40))}] != HF [{string.Join(",", expected.Take(40))}]");
                    // "decode" is left out where it equals the text, "decode_skip_special" where it equals "decode".
                    var decode = c.TryGetProperty("decode", out var d) ? d.GetString() : text;
                    var decodeSkip = c.TryGetProperty("decode_skip_special", out var ds) ? ds.GetString() : decode;
                    if (tok.Decode(expected) != decode)
                        failures.Add($"{label}: decode differs from HF");
                    else if (tok.Decode(expected, skipSpecialTokens: true) != decodeSkip)
                        failures.Add($"{label}: decode with skip_special_tokens differs from HF");
                }
            }
        }
        Assert.True(compared > 1319, $"The fixture holds only {compared} cases; it should hold the hard cases and all 1319 GSM8K test questions.");
        Assert.True(failures.Count == 0, $"{failures.Count} of {compared} cases differ from HF:\n{string.Join("\n", failures.Take(20))}");
    }
}
