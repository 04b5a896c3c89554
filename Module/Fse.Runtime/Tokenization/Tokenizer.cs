using System.Text;
using Fse.Runtime.Checkpoints;

namespace Fse.Runtime.Tokenization;

/// <summary>
/// A Hugging Face tokenizer (tokenizer.json, byte-level BPE as Qwen, GPT-2 and Llama 3 use it) plus the settings of
/// tokenizer_config.json. Encoding and decoding give exactly the ids and text HF tokenizers gives with default
/// settings: added tokens found first (special ones included), the normalizer and pre-tokenizer applied to the text
/// between them, BPE per piece, the post-processor. Thread-safe: one instance can serve many requests.
/// </summary>
public sealed class Tokenizer
{
    private readonly TokenizerDefinition _def;
    private readonly AddedTokenMatcher _rawMatcher;
    private readonly AddedTokenMatcher _normalizedMatcher;
    private readonly string?[] _tokens;
    private readonly byte[]?[] _bytes;
    private readonly bool[] _special;
    private readonly Dictionary<string, int> _addedByContent;

    private Tokenizer(string path, string? configPath, TokenizerDefinition def, TokenizerConfig config)
    {
        Path = path;
        ConfigPath = configPath;
        Config = config;
        _def = def;
        var size = 0;
        foreach (var id in def.Model.Vocab.Values) size = Math.Max(size, id + 1);
        foreach (var t in def.AddedTokens) size = Math.Max(size, t.Id + 1);
        VocabSize = size;
        _tokens = new string?[size];
        _bytes = new byte[]?[size];
        _special = new bool[size];
        foreach (var (token, id) in def.Model.Vocab) _tokens[id] = token;
        _addedByContent = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in def.AddedTokens)
        {
            _tokens[t.Id] = def.NormalizedContent.TryGetValue(t.Id, out var n) ? n : t.Content;
            _special[t.Id] = t.Special;
            _addedByContent[t.Content] = t.Id;
        }
        for (var id = 0; id < size; id++)
        {
            if (_tokens[id] is not { } tok) continue;
            _bytes[id] = def.ByteLevelDecoder ? ByteLevelAlphabet.DecodeToken(tok) : Encoding.UTF8.GetBytes(tok);
        }
        _rawMatcher = new AddedTokenMatcher(def.AddedTokens.Where(t => !t.Normalized).Select(t => (t.Content, t)));
        _normalizedMatcher = new AddedTokenMatcher(def.AddedTokens.Where(t => t.Normalized)
            .Select(t => (def.NormalizedContent.TryGetValue(t.Id, out var n) ? n : t.Content, t)));
        SpecialIds = [.. def.AddedTokens.Where(t => t.Special).Select(t => t.Id).Distinct().Order()];
        EosTokenId = IdOfConfigToken(config.EosToken);
        BosTokenId = IdOfConfigToken(config.BosToken);
        PadTokenId = IdOfConfigToken(config.PadToken);
    }

    /// <summary>The tokenizer.json this was loaded from.</summary>
    public string Path { get; }

    /// <summary>The tokenizer_config.json read beside it, if there was one.</summary>
    public string? ConfigPath { get; }

    public TokenizerConfig Config { get; }

    /// <summary>One more than the highest id of the vocabulary and the added tokens.</summary>
    public int VocabSize { get; }

    /// <summary>The ids of added tokens marked special (for Qwen3: &lt;|endoftext|&gt;, &lt;|im_start|&gt;, ...), ascending.</summary>
    public IReadOnlyList<int> SpecialIds { get; }

    /// <summary>The added tokens as HF numbers them.</summary>
    public IReadOnlyList<AddedToken> AddedTokens => _def.AddedTokens;

    /// <summary>The number of BPE merges.</summary>
    public int MergeCount => _def.Model.MergeCount;

    /// <summary>The id of tokenizer_config.json's eos_token (null without a config or an eos_token).</summary>
    public int? EosTokenId { get; }

    public int? BosTokenId { get; }

    public int? PadTokenId { get; }

    /// <summary>The chat template of tokenizer_config.json (or chat_template.jinja), if any.</summary>
    public string? ChatTemplate => Config.ChatTemplate;

    /// <summary>
    /// Loads a tokenizer from a directory holding tokenizer.json (and optionally tokenizer_config.json) or from
    /// the path of a tokenizer.json, whose directory is then searched for tokenizer_config.json.
    /// </summary>
    /// <exception cref="CheckpointException">The directory or file is missing, or the JSON is malformed or uses a component this tokenizer does not support.</exception>
    public static Tokenizer Load(string dirOrFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(dirOrFile);
        string file;
        if (Directory.Exists(dirOrFile))
        {
            file = System.IO.Path.Combine(dirOrFile, "tokenizer.json");
            if (!File.Exists(file))
                throw new CheckpointException(CheckpointErrorKind.FileNotFound, file, $"'{dirOrFile}' has no tokenizer.json ('{file}' does not exist).");
        }
        else if (File.Exists(dirOrFile)) file = dirOrFile;
        else if (dirOrFile.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            throw new CheckpointException(CheckpointErrorKind.FileNotFound, dirOrFile, $"The tokenizer file '{dirOrFile}' does not exist.");
        else
            throw new CheckpointException(CheckpointErrorKind.DirectoryNotFound, dirOrFile, $"The tokenizer directory '{dirOrFile}' does not exist.");
        file = System.IO.Path.GetFullPath(file);
        var def = TokenizerJsonLoader.Load(file);
        var configPath = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(file)!, "tokenizer_config.json");
        var config = File.Exists(configPath) ? TokenizerConfig.Load(configPath) : TokenizerConfig.Empty;
        return new Tokenizer(file, File.Exists(configPath) ? configPath : null, def, config);
    }

    /// <summary>The ids of <paramref name="text"/>, as HF's <c>encode(text)</c> gives them (add_special_tokens=True).</summary>
    public int[] Encode(string text) => Encode(text, addSpecialTokens: true);

    /// <summary>
    /// The ids of <paramref name="text"/>. Added tokens written in the text (such as &lt;|im_start|&gt;) become
    /// their ids, as HF does by default. <paramref name="addSpecialTokens"/> only matters for tokenizers whose
    /// post-processor adds tokens (a TemplateProcessing with a BOS); Qwen's adds none. Lone surrogates, which
    /// cannot be UTF-8, are read as U+FFFD.
    /// </summary>
    public int[] Encode(string text, bool addSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = CodePoints.ReplaceLoneSurrogates(text);
        var ids = new List<int>(text.Length / 3 + 4);
        var first = new List<(string Text, AddedToken? Token)>();
        _rawMatcher.Split(text, first);
        var second = new List<(string Text, AddedToken? Token)>();
        var pieces = new List<string>();
        foreach (var (segment, token) in first)
        {
            if (token is not null)
            {
                ids.Add(token.Id);
                continue;
            }
            var normalized = _def.Normalizer?.Normalize(segment) ?? segment;
            second.Clear();
            _normalizedMatcher.Split(normalized, second);
            foreach (var (part, t) in second)
            {
                if (t is not null)
                {
                    ids.Add(t.Id);
                    continue;
                }
                if (part.Length == 0) continue;
                pieces.Clear();
                pieces.Add(part);
                _def.PreTokenizer?.Split(pieces);
                foreach (var piece in pieces) _def.Model.Tokenize(piece, ids);
            }
        }
        return _def.PostProcessor.Process(ids, addSpecialTokens);
    }

    /// <summary>
    /// The text of <paramref name="ids"/>, as HF's <c>decode(ids, skip_special_tokens)</c> gives it: the bytes of
    /// the tokens joined and read as UTF-8, with U+FFFD for each malformed sequence.
    /// </summary>
    /// <exception cref="CheckpointException">An id is outside the vocabulary (kind TokenOutOfRange).</exception>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        if (!_def.ByteLevelDecoder)
        {
            var parts = new List<string>(ids.Length);
            foreach (var id in ids)
            {
                var tok = TokenOf(id);
                if (!skipSpecialTokens || !_special[id]) parts.Add(tok);
            }
            return string.Join(' ', parts);
        }
        var buffer = new List<byte>(ids.Length * 4);
        foreach (var id in ids)
        {
            var bytes = TokenBytes(id);
            if (skipSpecialTokens && _special[id]) continue;
            buffer.AddRange(bytes);
        }
        return Utf8Lossy(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(buffer));
    }

    /// <summary>True for the ids of added tokens marked special (skipped by Decode with skipSpecialTokens).</summary>
    public bool IsSpecial(int id) => (uint)id < (uint)VocabSize && _special[id];

    /// <summary>The token string of an id as HF's id_to_token gives it (byte-level form, e.g. "Ġworld").</summary>
    /// <exception cref="CheckpointException">The id is outside the vocabulary (kind TokenOutOfRange).</exception>
    public string IdToToken(int id) => TokenOf(id);

    /// <summary>The id of a token string (byte-level form for vocabulary tokens, content for added tokens), or null.</summary>
    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (_addedByContent.TryGetValue(token, out var added)) return added;
        return _def.Model.TryGetId(token, out var id) ? id : null;
    }

    /// <summary>A decoder for streaming: feed ids one at a time, get back only complete UTF-8 text.</summary>
    public StreamingDecoder CreateStreamingDecoder(bool skipSpecialTokens = false) => new(this, skipSpecialTokens);

    /// <summary>
    /// Renders a conversation with the tokenizer's chat template. Templates in the ChatML family (those that
    /// contain &lt;|im_start|&gt;: Qwen 1.5, 2, 2.5, 3 and the one <see cref="BpeTrainer"/> writes) are supported;
    /// see <see cref="ChatMlTemplate"/> for the exact subset.
    /// </summary>
    /// <exception cref="CheckpointException">There is no chat template, or it is not one this renderer understands (kind InvalidValue, key chat_template).</exception>
    public string ApplyChatTemplate(IReadOnlyList<(string Role, string Content)> messages, bool addGenerationPrompt)
    {
        var where = ConfigPath ?? System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, "tokenizer_config.json");
        return ChatMlTemplate.Parse(ChatTemplate, where).Render(messages, addGenerationPrompt);
    }

    internal bool DecodesBytes => _def.ByteLevelDecoder;

    internal byte[] TokenBytes(int id)
    {
        if ((uint)id < (uint)VocabSize && _bytes[id] is { } b) return b;
        throw OutOfRange(id);
    }

    internal string TokenOf(int id)
    {
        if ((uint)id < (uint)VocabSize && _tokens[id] is { } t) return t;
        throw OutOfRange(id);
    }

    internal static string Utf8Lossy(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);

    private CheckpointException OutOfRange(int id) =>
        new(CheckpointErrorKind.TokenOutOfRange, Path,
            (uint)id < (uint)VocabSize
                ? $"Token id {id} has no token in '{Path}' (vocabulary size {VocabSize})."
                : $"Token id {id} is outside the vocabulary of '{Path}' (vocabulary size {VocabSize}: ids 0 to {VocabSize - 1}).");

    private int? IdOfConfigToken(string? content) => content is null ? null : TokenToId(content);
}
