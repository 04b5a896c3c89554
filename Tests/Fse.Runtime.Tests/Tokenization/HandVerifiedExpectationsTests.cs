using System.Text.Json;
using Fse.Runtime.Tokenization;

namespace Fse.Runtime.Tests.Tokenization;

/// <summary>The small committed expectations (hand_verified.json): ids, token strings and decodes per tokenizer.</summary>
public class HandVerifiedExpectationsTests
{
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        using var doc = JsonDocument.Parse(File.ReadAllText(TokenizerFixtures.PathOf("hand_verified.json")));
        foreach (var t in doc.RootElement.GetProperty("tokenizers").EnumerateObject())
            for (var i = 0; i < t.Value.GetArrayLength(); i++) data.Add(t.Name, i);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EncodesAndDecodesAsExpected(string tokenizerName, int index)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TokenizerFixtures.PathOf("hand_verified.json")));
        var c = doc.RootElement.GetProperty("tokenizers").GetProperty(tokenizerName)[index];
        var tok = TokenizerFixtures.ByName(tokenizerName);
        var text = c.GetProperty("text").GetString()!;
        var expected = TokenizerFixtures.Ints(c.GetProperty("ids"));
        var ids = tok.Encode(text);
        Assert.Equal(expected, ids);
        // HF reports an added token with the spaces its lstrip/rstrip took; the token itself is without them.
        Assert.Equal(c.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()!.Trim()), ids.Select(id => tok.IdToToken(id).Trim()));
        Assert.Equal(c.GetProperty("decode").GetString(), tok.Decode(ids));
        Assert.Equal(c.GetProperty("decode_skip_special").GetString(), tok.Decode(ids, skipSpecialTokens: true));
    }
}
