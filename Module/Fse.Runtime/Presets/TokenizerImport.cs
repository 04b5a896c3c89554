using System.Text.Json;
using Fse.Runtime.Checkpoints;

namespace Fse.Runtime.Presets;

/// <summary>Copies a HF tokenizer into a checkpoint directory after checking that its ids fit the model's vocabulary.</summary>
public static class TokenizerImport
{
    public const string TokenizerFileName = "tokenizer.json";
    public const string TokenizerConfigFileName = "tokenizer_config.json";

    /// <summary>
    /// Copies <c>tokenizer.json</c> (and <c>tokenizer_config.json</c> when it lies beside it) from <paramref name="source"/>
    /// (a directory or the tokenizer.json itself) into <paramref name="directory"/>. Fails with
    /// <see cref="CheckpointErrorKind.TokenOutOfRange"/> when a token id is not below <paramref name="vocabSize"/>.
    /// Returns the files written.
    /// </summary>
    public static IReadOnlyList<string> CopyInto(string source, string directory, int vocabSize)
    {
        var tokenizer = ResolveTokenizerPath(source);
        EnsureFits(tokenizer, vocabSize);
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        var target = Path.Combine(directory, TokenizerFileName);
        File.Copy(tokenizer, target, overwrite: true);
        written.Add(target);
        var config = Path.Combine(Path.GetDirectoryName(tokenizer)!, TokenizerConfigFileName);
        if (File.Exists(config))
        {
            var configTarget = Path.Combine(directory, TokenizerConfigFileName);
            File.Copy(config, configTarget, overwrite: true);
            written.Add(configTarget);
        }
        return written;
    }

    /// <summary>Fails with <see cref="CheckpointErrorKind.TokenOutOfRange"/> when a token id of the tokenizer.json is not below <paramref name="vocabSize"/>.</summary>
    public static void EnsureFits(string tokenizerPath, int vocabSize)
    {
        var (maxId, token) = MaxTokenId(tokenizerPath);
        if (maxId >= vocabSize)
            throw new CheckpointException(CheckpointErrorKind.TokenOutOfRange, tokenizerPath,
                $"Tokenizer '{tokenizerPath}' has token ids up to {maxId} ('{token}'), but the model's vocab_size is {vocabSize}: "
                + $"every id must be below {vocabSize}.", token);
    }

    /// <summary>The tokenizer.json a source names: the file itself, or the one inside a directory.</summary>
    public static string ResolveTokenizerPath(string source)
    {
        var full = Path.GetFullPath(source);
        if (Directory.Exists(full))
        {
            var inside = Path.Combine(full, TokenizerFileName);
            if (!File.Exists(inside))
                throw new CheckpointException(CheckpointErrorKind.FileNotFound, full, $"Tokenizer directory '{full}' has no {TokenizerFileName}.");
            return inside;
        }
        if (!File.Exists(full))
            throw new CheckpointException(CheckpointErrorKind.FileNotFound, full, $"Tokenizer '{full}' does not exist.");
        return full;
    }

    /// <summary>The largest token id in a tokenizer.json (model vocabulary and added tokens) and its token.</summary>
    public static (int MaxId, string Token) MaxTokenId(string tokenizerPath)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(tokenizerPath));
        }
        catch (JsonException e)
        {
            throw new CheckpointException(CheckpointErrorKind.MalformedJson, tokenizerPath,
                $"'{tokenizerPath}' is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine}): {e.Message}", inner: e);
        }
        using (doc)
        {
            int max = -1;
            string token = "";
            void Consider(int id, string t)
            {
                if (id > max) (max, token) = (id, t);
            }
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object
                || !model.TryGetProperty("vocab", out var vocab))
                throw new CheckpointException(CheckpointErrorKind.MissingKey, tokenizerPath, $"'{tokenizerPath}' has no 'model.vocab': not a HF tokenizer.json.", "model.vocab");
            if (vocab.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in vocab.EnumerateObject())
                    if (entry.Value.TryGetInt32(out var id)) Consider(id, entry.Name);
            }
            else if (vocab.ValueKind == JsonValueKind.Array)
            {
                // Unigram: a list of [piece, score]; the id is the position.
                int i = 0;
                foreach (var entry in vocab.EnumerateArray())
                {
                    var piece = entry.ValueKind == JsonValueKind.Array && entry.GetArrayLength() > 0 ? entry[0].GetString() ?? "" : "";
                    Consider(i++, piece);
                }
            }
            if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            {
                foreach (var t in added.EnumerateArray())
                {
                    if (t.ValueKind == JsonValueKind.Object && t.TryGetProperty("id", out var idElement) && idElement.TryGetInt32(out var id))
                        Consider(id, t.TryGetProperty("content", out var c) ? c.GetString() ?? "" : "");
                }
            }
            return (max, token);
        }
    }
}
