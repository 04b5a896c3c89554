using System.Text.Json;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Tokenization.Unicode;

namespace Fse.Runtime.Tokenization;

/// <summary>The parts of a tokenizer.json, ready to run.</summary>
internal sealed class TokenizerDefinition
{
    public required BpeModel Model { get; init; }
    public TextNormalizer? Normalizer { get; init; }
    public PreTokenizer? PreTokenizer { get; init; }
    public required PostProcessor PostProcessor { get; init; }
    public required bool ByteLevelDecoder { get; init; }
    public required IReadOnlyList<AddedToken> AddedTokens { get; init; }
    /// <summary>Added tokens with normalized=true match normalized text: their normalized content, by id.</summary>
    public required IReadOnlyDictionary<int, string> NormalizedContent { get; init; }
}

/// <summary>
/// Reads a Hugging Face tokenizer.json (tokenizers 0.23 schema) into a <see cref="TokenizerDefinition"/>. What is
/// supported: model BPE (vocab; merges as "a b" strings or [a, b] pairs; unk_token, fuse_unk, byte_fallback,
/// ignore_merges, continuing_subword_prefix, end_of_word_suffix; no dropout); normalizer NFC, NFD, NFKC, NFKD,
/// Sequence or null; pre_tokenizer Split (Regex or String pattern, any behavior, invert), ByteLevel, Sequence or
/// null; post_processor ByteLevel, TemplateProcessing, Sequence or null; decoder ByteLevel or null. Anything else
/// is a <see cref="CheckpointException"/> naming the file and the key.
/// </summary>
internal static class TokenizerJsonLoader
{
    public static TokenizerDefinition Load(string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new CheckpointException(CheckpointErrorKind.MalformedJson, path, $"'{path}' is not valid JSON: {e.Message}", null, e);
        }
        using (doc)
        {
            var ctx = new Context(path);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw ctx.Invalid("", "must be a JSON object");
            var normalizer = ParseNormalizer(ctx, Get(root, "normalizer"), "normalizer");
            var preTokenizer = ParsePreTokenizer(ctx, Get(root, "pre_tokenizer"), "pre_tokenizer");
            var model = ParseModel(ctx, Get(root, "model") ?? throw ctx.Missing("model"));
            var decoder = ParseDecoder(ctx, Get(root, "decoder"), "decoder");
            var post = ParsePostProcessor(ctx, Get(root, "post_processor"), "post_processor", model, root);
            var (added, normalizedContent) = ParseAddedTokens(ctx, Get(root, "added_tokens"), model, normalizer);
            return new TokenizerDefinition
            {
                Model = model,
                Normalizer = normalizer,
                PreTokenizer = preTokenizer,
                PostProcessor = post,
                ByteLevelDecoder = decoder,
                AddedTokens = added,
                NormalizedContent = normalizedContent,
            };
        }
    }

    private static JsonElement? Get(JsonElement obj, string key) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private static string TypeOf(Context ctx, JsonElement e, string key)
    {
        if (e.ValueKind != JsonValueKind.Object) throw ctx.Invalid(key, "must be an object");
        var t = Get(e, "type") ?? throw ctx.Missing(key + ".type");
        if (t.ValueKind != JsonValueKind.String) throw ctx.Invalid(key + ".type", "must be a string");
        return t.GetString()!;
    }

    private static TextNormalizer? ParseNormalizer(Context ctx, JsonElement? e, string key)
    {
        if (e is null) return null;
        var type = TypeOf(ctx, e.Value, key);
        switch (type)
        {
            case "NFC": return new UnicodeFormNormalizer(NormalizationKind.Nfc);
            case "NFD": return new UnicodeFormNormalizer(NormalizationKind.Nfd);
            case "NFKC": return new UnicodeFormNormalizer(NormalizationKind.Nfkc);
            case "NFKD": return new UnicodeFormNormalizer(NormalizationKind.Nfkd);
            case "Sequence":
                {
                    var list = new List<TextNormalizer>();
                    var items = Array(ctx, e.Value, key, "normalizers");
                    for (var i = 0; i < items.Count; i++)
                    {
                        if (ParseNormalizer(ctx, items[i], $"{key}.normalizers[{i}]") is { } n) list.Add(n);
                    }
                    return new SequenceNormalizer(list);
                }
            default:
                throw ctx.Unsupported(key + ".type", type, "NFC, NFD, NFKC, NFKD, Sequence");
        }
    }

    private static PreTokenizer? ParsePreTokenizer(Context ctx, JsonElement? e, string key)
    {
        if (e is null) return null;
        var type = TypeOf(ctx, e.Value, key);
        switch (type)
        {
            case "Sequence":
                {
                    var list = new List<PreTokenizer>();
                    var items = Array(ctx, e.Value, key, "pretokenizers");
                    for (var i = 0; i < items.Count; i++)
                    {
                        if (ParsePreTokenizer(ctx, items[i], $"{key}.pretokenizers[{i}]") is { } p) list.Add(p);
                    }
                    return new SequencePreTokenizer(list);
                }
            case "Split":
                {
                    var pattern = Get(e.Value, "pattern") ?? throw ctx.Missing(key + ".pattern");
                    OnigPattern? regex = null;
                    string? literal = null;
                    if (Get(pattern, "Regex") is { ValueKind: JsonValueKind.String } r)
                    {
                        try
                        {
                            regex = new OnigPattern(r.GetString()!);
                        }
                        catch (ArgumentException ex)
                        {
                            throw ctx.Invalid(key + ".pattern.Regex", $"is not a pattern this tokenizer can run: {ex.Message}", CheckpointErrorKind.InvalidValue, ex);
                        }
                    }
                    else if (Get(pattern, "String") is { ValueKind: JsonValueKind.String } s) literal = s.GetString()!;
                    else throw ctx.Invalid(key + ".pattern", "must be {\"Regex\": \"...\"} or {\"String\": \"...\"}");
                    var behaviorText = String(ctx, e.Value, key, "behavior") ?? throw ctx.Missing(key + ".behavior");
                    if (!Enum.TryParse<SplitBehavior>(behaviorText, ignoreCase: false, out var behavior) || int.TryParse(behaviorText, out _))
                        throw ctx.Unsupported(key + ".behavior", behaviorText, "Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
                    var invert = Bool(ctx, e.Value, key, "invert", false);
                    return new SplitPreTokenizer(regex, literal, behavior, invert);
                }
            case "ByteLevel":
                return new ByteLevelPreTokenizer(Bool(ctx, e.Value, key, "add_prefix_space", true), Bool(ctx, e.Value, key, "use_regex", true));
            default:
                throw ctx.Unsupported(key + ".type", type, "Sequence, Split, ByteLevel");
        }
    }

    private static bool ParseDecoder(Context ctx, JsonElement? e, string key)
    {
        if (e is null) return false;
        var type = TypeOf(ctx, e.Value, key);
        if (type == "ByteLevel") return true;
        throw ctx.Unsupported(key + ".type", type, "ByteLevel");
    }

    private static PostProcessor ParsePostProcessor(Context ctx, JsonElement? e, string key, BpeModel model, JsonElement root)
    {
        if (e is null) return PassThroughPostProcessor.Instance;
        var type = TypeOf(ctx, e.Value, key);
        switch (type)
        {
            case "ByteLevel":
                return PassThroughPostProcessor.Instance;
            case "Sequence":
                {
                    var items = Array(ctx, e.Value, key, "processors");
                    var list = new List<PostProcessor>();
                    for (var i = 0; i < items.Count; i++) list.Add(ParsePostProcessor(ctx, items[i], $"{key}.processors[{i}]", model, root));
                    return new SequencePostProcessor(list);
                }
            case "TemplateProcessing":
                {
                    var special = Get(e.Value, "special_tokens");
                    var items = Array(ctx, e.Value, key, "single");
                    var single = new List<int[]?>();
                    for (var i = 0; i < items.Count; i++)
                    {
                        var itemKey = $"{key}.single[{i}]";
                        if (Get(items[i], "Sequence") is { } seq)
                        {
                            if (String(ctx, seq, itemKey + ".Sequence", "id") != "A") throw ctx.Invalid(itemKey + ".Sequence.id", "must be \"A\" in a single-sequence template");
                            single.Add(null);
                        }
                        else if (Get(items[i], "SpecialToken") is { } tok)
                        {
                            var name = String(ctx, tok, itemKey + ".SpecialToken", "id") ?? throw ctx.Missing(itemKey + ".SpecialToken.id");
                            var entry = special is { } sp ? Get(sp, name) : null;
                            if (entry is null) throw ctx.Invalid(itemKey + ".SpecialToken.id", $"names '{name}', which {key}.special_tokens does not define");
                            var ids = Array(ctx, entry.Value, $"{key}.special_tokens.{name}", "ids")
                                .Select(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out var v) ? v : throw ctx.Invalid($"{key}.special_tokens.{name}.ids", "must be integers"))
                                .ToArray();
                            single.Add(ids);
                        }
                        else throw ctx.Invalid(itemKey, "must be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
                    }
                    return new TemplatePostProcessor(single);
                }
            default:
                throw ctx.Unsupported(key + ".type", type, "ByteLevel, TemplateProcessing, Sequence");
        }
    }

    private static BpeModel ParseModel(Context ctx, JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) throw ctx.Invalid("model", "must be an object");
        if (Get(e, "type") is { } t)
        {
            var type = t.ValueKind == JsonValueKind.String ? t.GetString()! : t.GetRawText();
            if (type != "BPE") throw ctx.Unsupported("model.type", type, "BPE", CheckpointErrorKind.UnknownModelType);
        }
        var vocabElement = Get(e, "vocab") ?? throw ctx.Missing("model.vocab");
        if (vocabElement.ValueKind != JsonValueKind.Object) throw ctx.Invalid("model.vocab", "must be an object of token to id");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in vocabElement.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out var id) || id < 0)
                throw ctx.Invalid($"model.vocab.{p.Name}", "must be a non-negative integer id");
            vocab[p.Name] = id;
        }
        var mergesElement = Get(e, "merges") ?? throw ctx.Missing("model.merges");
        if (mergesElement.ValueKind != JsonValueKind.Array) throw ctx.Invalid("model.merges", "must be a list");
        var merges = new List<(string, string)>(mergesElement.GetArrayLength());
        var index = 0;
        foreach (var m in mergesElement.EnumerateArray())
        {
            if (m.ValueKind == JsonValueKind.String)
            {
                var line = m.GetString()!;
                if (line.StartsWith("#version", StringComparison.Ordinal)) continue;
                var parts = line.Split(' ');
                if (parts.Length != 2) throw ctx.Invalid($"model.merges[{index}]", $"must be two tokens separated by one space, not \"{line}\"");
                merges.Add((parts[0], parts[1]));
            }
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2 && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String)
                merges.Add((m[0].GetString()!, m[1].GetString()!));
            else throw ctx.Invalid($"model.merges[{index}]", "must be \"a b\" or [\"a\", \"b\"]");
            index++;
        }
        if (Get(e, "dropout") is { } d && (d.ValueKind != JsonValueKind.Number || d.GetDouble() != 0))
            throw ctx.Unsupported("model.dropout", d.GetRawText(), "null or 0 (dropout makes encoding random)", CheckpointErrorKind.InvalidValue);
        var options = new BpeOptions(
            UnkToken: String(ctx, e, "model", "unk_token"),
            FuseUnk: Bool(ctx, e, "model", "fuse_unk", false),
            ByteFallback: Bool(ctx, e, "model", "byte_fallback", false),
            IgnoreMerges: Bool(ctx, e, "model", "ignore_merges", false),
            ContinuingSubwordPrefix: NullIfEmpty(String(ctx, e, "model", "continuing_subword_prefix")),
            EndOfWordSuffix: NullIfEmpty(String(ctx, e, "model", "end_of_word_suffix")));
        return new BpeModel(vocab, merges, options, why => ctx.Invalid("model.merges", why));
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    // HF (tokenizers 0.23, AddedVocabulary::add_tokens) gives an added token the id of its content in the model's
    // vocabulary, else the next id after the vocabulary (or after the highest added id); the "id" in the file is
    // only checked, with a warning. A file whose ids disagree with that is refused here: the model's embedding rows
    // follow the file's ids, so silently renumbering would feed the model the wrong tokens.
    private static (IReadOnlyList<AddedToken>, IReadOnlyDictionary<int, string>) ParseAddedTokens(Context ctx, JsonElement? e, BpeModel model, TextNormalizer? normalizer)
    {
        var result = new List<AddedToken>();
        var normalizedContent = new Dictionary<int, string>();
        if (e is null) return (result, normalizedContent);
        if (e.Value.ValueKind != JsonValueKind.Array) throw ctx.Invalid("added_tokens", "must be a list");
        var byContent = new Dictionary<string, int>(StringComparer.Ordinal);
        var nextId = model.Count;
        var i = 0;
        foreach (var t in e.Value.EnumerateArray())
        {
            var key = $"added_tokens[{i++}]";
            if (t.ValueKind != JsonValueKind.Object) throw ctx.Invalid(key, "must be an object");
            var content = String(ctx, t, key, "content") ?? throw ctx.Missing(key + ".content");
            var special = Bool(ctx, t, key, "special", false);
            var token = new AddedToken(
                Id: -1,
                Content: content,
                Special: special,
                SingleWord: Bool(ctx, t, key, "single_word", false),
                LStrip: Bool(ctx, t, key, "lstrip", false),
                RStrip: Bool(ctx, t, key, "rstrip", false),
                Normalized: Bool(ctx, t, key, "normalized", !special));
            if (content.Length == 0) continue;
            int id;
            if (byContent.TryGetValue(content, out var existing)) id = existing;
            else if (model.TryGetId(content, out var inVocab)) id = inVocab;
            else id = nextId++;
            if (Get(t, "id") is { } fileId && (!fileId.TryGetInt32(out var declared) || declared != id))
                throw ctx.Invalid(key + ".id", $"is {fileId.GetRawText()}, but HF tokenizers gives '{content}' the id {id} (the vocabulary has {model.Count} entries)");
            token = token with { Id = id };
            byContent[content] = id;
            result.RemoveAll(x => x.Id == id);
            result.Add(token);
            if (token.Normalized && normalizer is not null)
            {
                var normalized = normalizer.Normalize(content);
                if (normalized != content) normalizedContent[id] = normalized;
            }
        }
        return (result, normalizedContent);
    }

    private static List<JsonElement> Array(Context ctx, JsonElement obj, string key, string name)
    {
        var v = Get(obj, name) ?? throw ctx.Missing($"{key}.{name}");
        if (v.ValueKind != JsonValueKind.Array) throw ctx.Invalid($"{key}.{name}", "must be a list");
        return [.. v.EnumerateArray()];
    }

    private static string? String(Context ctx, JsonElement obj, string key, string name)
    {
        var v = Get(obj, name);
        if (v is null) return null;
        if (v.Value.ValueKind != JsonValueKind.String) throw ctx.Invalid($"{key}.{name}", "must be a string");
        return v.Value.GetString();
    }

    private static bool Bool(Context ctx, JsonElement obj, string key, string name, bool fallback)
    {
        var v = Get(obj, name);
        if (v is null) return fallback;
        return v.Value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw ctx.Invalid($"{key}.{name}", "must be true or false"),
        };
    }

    private readonly struct Context(string path)
    {
        public CheckpointException Missing(string key) =>
            new(CheckpointErrorKind.MissingKey, path, $"'{path}' has no key '{key}'.", key);

        public CheckpointException Invalid(string key, string why, CheckpointErrorKind kind = CheckpointErrorKind.InvalidValue, Exception? inner = null) =>
            new(kind, path, key.Length == 0 ? $"'{path}' {why}." : $"'{path}': key '{key}' {why}.", key.Length == 0 ? null : key, inner);

        public CheckpointException Unsupported(string key, string value, string supported, CheckpointErrorKind kind = CheckpointErrorKind.InvalidValue) =>
            new(kind, path, $"'{path}': key '{key}' is '{value}', which is not supported (supported: {supported}).", key);
    }
}
