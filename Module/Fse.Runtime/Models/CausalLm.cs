using Fse.Kernels;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Moe;
using Fse.Runtime.Weights;

namespace Fse.Runtime.Models;

/// <summary>
/// A decoder-only MoE language model (qwen2_moe, qwen3_next, glm4_moe) on one backend, with its FSE mode fixed at
/// load. The weight source must stay alive as long as the model (the CPU backend reads mapped weights in place).
/// Not thread-safe: one forward step at a time.
/// </summary>
public sealed class CausalLm : IDisposable
{
    private readonly WeightLoader _weights;
    private readonly List<IDisposable> _owned = [];
    private readonly DecoderLayer[] _layers;
    private readonly Tensor _embed, _norm, _lmHead;

    private CausalLm(ModelConfig config, IBackend backend, ITensorSource source, FseMode fse, WeightPlanOptions? plan)
    {
        Config = config;
        Backend = backend;
        Fse = fse;
        _weights = new WeightLoader(source, backend);
        try
        {
            int v = config.VocabSize, h = config.HiddenSize;
            _embed = _weights.Matrix("model.embed_tokens.weight", v, h);
            _norm = _weights.Vector("model.norm.weight", h);
            _lmHead = config.TieWordEmbeddings ? _embed : _weights.Matrix("lm_head.weight", v, h);
            _layers = new DecoderLayer[config.NumLayers];
            for (int i = 0; i < config.NumLayers; i++) _layers[i] = new DecoderLayer(config, _weights, i, fse, _owned.Add, plan);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public ModelConfig Config { get; }
    public IBackend Backend { get; }
    public FseMode Fse { get; }
    public string Location => _weights.Source.Location;

    /// <summary>The MoE blocks in layer order (router and runner of each), for inspection and tests.</summary>
    public IReadOnlyList<MoeBlock> MoeBlocks => _layers.Where(l => l.Moe is not null).Select(l => l.Moe!).ToArray();

    /// <summary>Loads every weight of <paramref name="config"/> from <paramref name="source"/> with the given FSE plan.</summary>
    public static CausalLm Load(ModelConfig config, ITensorSource source, IBackend backend, FseMode fse) => new(config, backend, source, fse, null);

    /// <summary>Loads with a deliberately altered weight plan (tests of the checks that must catch it).</summary>
    internal static CausalLm Load(ModelConfig config, ITensorSource source, IBackend backend, FseMode fse, WeightPlanOptions plan) =>
        new(config, backend, source, fse, plan);

    /// <summary>Which Gated DeltaNet form linear-attention layers use for multi-token chunks (tests compare them).</summary>
    public DeltaRuleForm DeltaRuleForm
    {
        set
        {
            foreach (var l in _layers)
                if (l.Linear is not null) l.Linear.Form = value;
        }
    }

    /// <summary>
    /// Runs one step over <paramref name="tokenIds"/> laid out by <paramref name="batch"/>, updating
    /// <paramref name="state"/>, and writes logits [logitRows.Length, vocab] for the requested token rows.
    /// </summary>
    public void Forward(ReadOnlySpan<int> tokenIds, SequenceBatch batch, ModelState state, ReadOnlySpan<int> logitRows, Span<float> logits, IRoutingObserver? observer = null)
    {
        int v = Config.VocabSize;
        if (logits.Length < (long)logitRows.Length * v) throw new ArgumentException("The logits buffer is too small.", nameof(logits));
        Run(tokenIds, batch, state, logitRows, greedy: false, logits, observer);
    }

    /// <summary>
    /// <see cref="Forward"/> ending in greedy decoding's choice on the device (<see cref="IBackend.ArgMax"/> of each
    /// requested row's logits, the lower id on ties, as <see cref="Inference.Sampler.ArgMax"/>): <paramref name="nextTokens"/>
    /// gets one token id per row and no logits leave the device. A vocabulary row of logits is 0.6 MB to download per
    /// sequence and step; an id is 4 bytes.
    /// </summary>
    public void ForwardGreedy(ReadOnlySpan<int> tokenIds, SequenceBatch batch, ModelState state, ReadOnlySpan<int> logitRows, Span<int> nextTokens)
    {
        if (nextTokens.Length < logitRows.Length) throw new ArgumentException("The token buffer is too small.", nameof(nextTokens));
        Span<float> chosen = logitRows.Length <= 256 ? stackalloc float[logitRows.Length] : new float[logitRows.Length];
        Run(tokenIds, batch, state, logitRows, greedy: true, chosen, null);
        for (int i = 0; i < chosen.Length; i++) nextTokens[i] = (int)chosen[i];
    }

    private void Run(ReadOnlySpan<int> tokenIds, SequenceBatch batch, ModelState state, ReadOnlySpan<int> logitRows, bool greedy, Span<float> output, IRoutingObserver? observer)
    {
        int t = batch.TokenCount, v = Config.VocabSize, columns = greedy ? 1 : v;
        if (tokenIds.Length != t) throw new ArgumentException($"{tokenIds.Length} token ids for a batch of {t} tokens.", nameof(tokenIds));
        for (int i = 0; i < t; i++)
            if ((uint)tokenIds[i] >= (uint)v)
                throw new CheckpointException(CheckpointErrorKind.TokenOutOfRange, Location,
                    $"Token id {tokenIds[i]} (at {i}) is outside the vocabulary of {v} tokens of '{Location}'.", "vocab_size");
        foreach (var r in logitRows)
            if ((uint)r >= (uint)t) throw new ArgumentOutOfRangeException(nameof(logitRows), $"Logit row {r} of a {t}-token batch.");

        // A backend with step graphs may record this step once and replay it for later steps of its shape (decode).
        if (Backend is IStepGraphs graphs && observer is null)
            graphs.RunStep((this, state), tokenIds, logitRows, columns, batch, (ids, rows, o) => Step(ids, rows, o, greedy, batch, state, null), output);
        else
            EagerStep.Run(Backend, tokenIds, logitRows, columns, (ids, rows, o) => Step(ids, rows, o, greedy, batch, state, observer), output);
    }

    /// <summary>
    /// The device part of a step: token ids in, the picked rows' logits out, or with <paramref name="greedy"/> their
    /// arg-max ids (nothing when there are no rows).
    /// </summary>
    private void Step(Tensor ids, Tensor rows, Tensor output, bool greedy, SequenceBatch batch, ModelState state, IRoutingObserver? observer)
    {
        int t = batch.TokenCount, h = Config.HiddenSize;
        using var s = new Scratch(Backend);
        var x = s.F32(t, h);
        Backend.Embedding(ids, _embed, x);
        Tensor? pending = null;
        foreach (var layer in _layers) pending = layer.Forward(x, pending, batch, state, s, observer);
        if (pending is not null) Backend.Add(x, pending, x);
        int n = checked((int)rows.ElementCount);
        if (n == 0) return;
        var picked = s.F32(n, h);
        Backend.Embedding(rows, x, picked);
        Backend.RmsNorm(picked, _norm, picked, (float)Config.RmsNormEps, Config.ZeroCenteredNorm);
        if (!greedy)
        {
            Backend.MatMul(picked, _lmHead, null, output);
            return;
        }
        var logits = s.F32(n, Config.VocabSize);
        Backend.MatMul(picked, _lmHead, null, logits);
        Backend.ArgMax(logits, output);
    }

    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
        _owned.Clear();
        _weights.Dispose();
    }
}
