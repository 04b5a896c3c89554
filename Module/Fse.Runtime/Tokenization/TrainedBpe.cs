using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Fse.Runtime.Tokenization;

/// <summary>The result of <see cref="BpeTrainer.Train"/>: the vocabulary in id order and the ranked merges.</summary>
public sealed class TrainedBpe
{
    internal TrainedBpe(IReadOnlyList<string> vocab, IReadOnlyList<(string A, string B)> merges, int corpusMerges)
    {
        Vocab = vocab;
        Merges = merges;
        CorpusMerges = corpusMerges;
    }

    /// <summary>The BPE tokens (byte-level strings) by id; the special tokens follow at ids Vocab.Count, +1, +2.</summary>
    public IReadOnlyList<string> Vocab { get; }

    public IReadOnlyList<(string A, string B)> Merges { get; }

    /// <summary>How many of the merges were learned from the corpus (the rest are synthetic).</summary>
    public int CorpusMerges { get; }

    /// <summary>Every id, special tokens included.</summary>
    public int VocabSize => Vocab.Count + BpeTrainer.SpecialTokens.Count;

    /// <summary>Writes tokenizer.json and tokenizer_config.json (HF schema, as Qwen's) into <paramref name="directory"/>, creating it.</summary>
    public void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var options = new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var stream = File.Create(Path.Combine(directory, "tokenizer.json")))
        using (var w = new Utf8JsonWriter(stream, options))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            for (var i = 0; i < BpeTrainer.SpecialTokens.Count; i++)
            {
                w.WriteStartObject();
                w.WriteNumber("id", Vocab.Count + i);
                WriteAddedTokenFlags(w, BpeTrainer.SpecialTokens[i]);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("normalizer");
            w.WriteString("type", "NFC");
            w.WriteEndObject();
            w.WriteStartObject("pre_tokenizer");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("pretokenizers");
            w.WriteStartObject();
            w.WriteString("type", "Split");
            w.WriteStartObject("pattern");
            w.WriteString("Regex", BpeTrainer.QwenPattern);
            w.WriteEndObject();
            w.WriteString("behavior", "Isolated");
            w.WriteBoolean("invert", false);
            w.WriteEndObject();
            WriteByteLevel(w, null);
            w.WriteEndArray();
            w.WriteEndObject();
            WriteByteLevel(w, "post_processor");
            WriteByteLevel(w, "decoder");
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteNull("unk_token");
            w.WriteString("continuing_subword_prefix", "");
            w.WriteString("end_of_word_suffix", "");
            w.WriteBoolean("fuse_unk", false);
            w.WriteBoolean("byte_fallback", false);
            w.WriteBoolean("ignore_merges", false);
            w.WriteStartObject("vocab");
            for (var id = 0; id < Vocab.Count; id++) w.WriteNumber(Vocab[id], id);
            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (var (a, b) in Merges)
            {
                w.WriteStartArray();
                w.WriteStringValue(a);
                w.WriteStringValue(b);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        using (var stream = File.Create(Path.Combine(directory, "tokenizer_config.json")))
        using (var w = new Utf8JsonWriter(stream, options))
        {
            w.WriteStartObject();
            w.WriteBoolean("add_bos_token", false);
            w.WriteBoolean("add_prefix_space", false);
            w.WriteStartObject("added_tokens_decoder");
            for (var i = 0; i < BpeTrainer.SpecialTokens.Count; i++)
            {
                w.WriteStartObject((Vocab.Count + i).ToString(CultureInfo.InvariantCulture));
                WriteAddedTokenFlags(w, BpeTrainer.SpecialTokens[i]);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteStartArray("additional_special_tokens");
            w.WriteStringValue("<|im_start|>");
            w.WriteStringValue("<|im_end|>");
            w.WriteEndArray();
            w.WriteNull("bos_token");
            w.WriteString("chat_template", ChatMlTemplate.PlainChatMl);
            w.WriteBoolean("clean_up_tokenization_spaces", false);
            w.WriteString("eos_token", "<|im_end|>");
            w.WriteString("errors", "replace");
            w.WriteNumber("model_max_length", 32768);
            w.WriteString("pad_token", "<|endoftext|>");
            w.WriteBoolean("split_special_tokens", false);
            w.WriteString("tokenizer_class", "Qwen2Tokenizer");
            w.WriteNull("unk_token");
            w.WriteEndObject();
        }
    }

    private static void WriteAddedTokenFlags(Utf8JsonWriter w, string content)
    {
        w.WriteString("content", content);
        w.WriteBoolean("single_word", false);
        w.WriteBoolean("lstrip", false);
        w.WriteBoolean("rstrip", false);
        w.WriteBoolean("normalized", false);
        w.WriteBoolean("special", true);
    }

    private static void WriteByteLevel(Utf8JsonWriter w, string? name)
    {
        if (name is null) w.WriteStartObject();
        else w.WriteStartObject(name);
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", false);
        w.WriteBoolean("trim_offsets", false);
        w.WriteBoolean("use_regex", false);
        w.WriteEndObject();
    }
}
