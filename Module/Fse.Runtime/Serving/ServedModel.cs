using System.Text.Json;
using Fse.Kernels;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Models;
using Fse.Runtime.Presets;
using Fse.Runtime.Tokenization;
using Fse.Runtime.Weights;

namespace Fse.Runtime.Serving;

/// <summary>How <see cref="ServedModel.Load"/> builds a preset served without files.</summary>
public sealed record PresetOptions
{
    /// <summary>Overrides the preset's layer count.</summary>
    public int? Layers { get; init; }

    /// <summary>The random-weight seed (as New-FseModel's -Seed).</summary>
    public int Seed { get; init; }
}

/// <summary>
/// The model a server serves: a checkpoint directory (hub layout, its tokenizer when it has one) or a named preset
/// whose weight matrices the backend draws in its own memory (<see cref="Presets.PresetSource"/>), with a built-in tokenizer
/// sized to its vocabulary. Owns the weights, the graph and the tokenizer.
/// </summary>
public sealed class ServedModel : IDisposable
{
    private readonly IDisposable _weights;

    private ServedModel(string spec, bool isPreset, CausalLm model, IDisposable weights, Tokenizer? tokenizer, IReadOnlyList<int> eos)
    {
        Spec = spec;
        IsPreset = isPreset;
        Model = model;
        _weights = weights;
        Tokenizer = tokenizer;
        EosTokenIds = eos;
        RegularVocabSize = tokenizer is null
            ? model.Config.VocabSize
            : Math.Min(model.Config.VocabSize, tokenizer.VocabSize - tokenizer.AddedTokens.Select(t => t.Id).Distinct().Count());
    }

    /// <summary>What was asked for: a preset name or a checkpoint directory (full path).</summary>
    public string Spec { get; }

    public bool IsPreset { get; }

    public CausalLm Model { get; }

    public ModelConfig Config => Model.Config;

    /// <summary>Null for a checkpoint without tokenizer files: then only token-id prompts can be served.</summary>
    public Tokenizer? Tokenizer { get; }

    /// <summary>End-of-sequence ids: config.json's and generation_config.json's <c>eos_token_id</c> and the tokenizer's eos token.</summary>
    public IReadOnlyList<int> EosTokenIds { get; }

    /// <summary>
    /// The regular vocabulary without added special tokens (HF's <c>tokenizer.vocab_size</c>), from which random prompt ids
    /// are drawn; the model's vocabulary size when there is no tokenizer.
    /// </summary>
    public int RegularVocabSize { get; }

    /// <summary>
    /// Loads <paramref name="spec"/>: an existing directory is a checkpoint; otherwise a preset name (see
    /// <see cref="ModelPresets.Names"/>).
    /// </summary>
    /// <exception cref="CheckpointException">The checkpoint or its tokenizer cannot be read.</exception>
    /// <exception cref="ArgumentException">Neither a directory nor a preset.</exception>
    public static ServedModel Load(string spec, FseMode fse, IBackend backend, PresetOptions? preset = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        if (Directory.Exists(spec)) return LoadCheckpoint(Path.GetFullPath(spec), fse, backend);
        if (ModelPresets.TryGet(spec, out var p)) return LoadPreset(p, fse, backend, preset ?? new PresetOptions());
        if (BundledModels.TryResolve(spec, out var bundled)) return LoadCheckpoint(bundled, fse, backend);
        throw new ArgumentException(
            $"The model '{spec}' is neither a checkpoint directory, a preset nor a model shipped with the module. Give a directory with config.json and *.safetensors, '{BundledModels.Default}', or a preset: {string.Join(", ", ModelPresets.Names)}.",
            nameof(spec));
    }

    private static ServedModel LoadCheckpoint(string dir, FseMode fse, IBackend backend)
    {
        var local = LocalModel.Open(dir, fse, backend);
        try
        {
            Tokenizer? tokenizer = File.Exists(Path.Combine(dir, TokenizerImport.TokenizerFileName)) ? Tokenizer.Load(dir) : null;
            var eos = new SortedSet<int>(local.Config.EosTokenIds);
            eos.UnionWith(GenerationConfigEos(dir));
            if (tokenizer?.EosTokenId is { } t) eos.Add(t);
            return new ServedModel(dir, false, local.Model, new LocalModelWeights(local), tokenizer, [.. eos]);
        }
        catch
        {
            local.Dispose();
            throw;
        }
    }

    private static ServedModel LoadPreset(ModelPreset preset, FseMode fse, IBackend backend, PresetOptions options)
    {
        var source = new PresetSource(preset.Name, options.Layers, options.Seed);
        try
        {
            // Weight matrices are drawn by the backend in its own memory; only small tensors are generated on the host.
            var model = CausalLm.Load(source.Config, source, backend, fse);
            var tokenizer = BuiltInTokenizer(source.Config.VocabSize);
            var eos = new SortedSet<int>(source.Config.EosTokenIds);
            if (tokenizer.EosTokenId is { } t) eos.Add(t);
            return new ServedModel(preset.Name, true, model, new PresetWeights(model, source), tokenizer, [.. eos]);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>A byte-level BPE tokenizer trained on the built-in corpus to exactly <paramref name="vocabSize"/> ids (special tokens last).</summary>
    public static Tokenizer BuiltInTokenizer(int vocabSize)
    {
        var dir = Path.Combine(Path.GetTempPath(), "fse-tokenizer-" + Guid.NewGuid().ToString("N"));
        try
        {
            BpeTrainer.WriteBuiltIn(dir, vocabSize);
            return Tokenizer.Load(dir);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static IEnumerable<int> GenerationConfigEos(string dir)
    {
        var path = Path.Combine(dir, "generation_config.json");
        if (!File.Exists(path)) return [];
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("eos_token_id", out var e)) return [];
            return e.ValueKind switch
            {
                JsonValueKind.Number when e.TryGetInt32(out var i) => [i],
                JsonValueKind.Array => e.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out _)).Select(x => x.GetInt32()).ToArray(),
                _ => [],
            };
        }
        catch (JsonException ex)
        {
            throw new CheckpointException(CheckpointErrorKind.MalformedJson, path, $"'{path}' is not valid JSON: {ex.Message}", inner: ex);
        }
    }

    public void Dispose() => _weights.Dispose();

    private sealed class LocalModelWeights(LocalModel local) : IDisposable
    {
        public void Dispose() => local.Dispose();
    }

    private sealed class PresetWeights(CausalLm model, PresetSource source) : IDisposable
    {
        public void Dispose()
        {
            model.Dispose();
            source.Dispose();
        }
    }
}
