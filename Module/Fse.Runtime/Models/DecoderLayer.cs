using Fse.Kernels;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Moe;
using Fse.Runtime.Weights;

namespace Fse.Runtime.Models;

/// <summary>Pre-norm residual block: token mixer (full or linear attention), then a dense MLP or an MoE block.</summary>
internal sealed class DecoderLayer
{
    private readonly ModelConfig _c;
    private readonly int _index;
    private readonly Tensor _inputNorm, _postNorm;

    public DecoderLayer(ModelConfig c, WeightLoader w, int index, FseMode fse, Action<IDisposable> own, WeightPlanOptions? plan = null)
    {
        _c = c;
        _index = index;
        string p = $"model.layers.{index}.";
        _inputNorm = w.Vector(p + "input_layernorm.weight", c.HiddenSize);
        _postNorm = w.Vector(p + "post_attention_layernorm.weight", c.HiddenSize);
        if (c.LayerTypes[index] == AttentionKind.Full) Attention = new FullAttention(c, w, p + "self_attn.");
        else Linear = new LinearAttention(c, w, p + "linear_attn.");
        if (c.FeedForwardOf(index) == FeedForwardKind.Moe)
        {
            var (router, runner) = MoeWeightPlan.Build(c, w, p + "mlp.", fse, own, plan);
            Moe = new MoeBlock(index, router, runner);
        }
        else
        {
            Mlp = new DenseMlp(w, p + "mlp.", c.HiddenSize, c.IntermediateSize);
        }
    }

    public FullAttention? Attention { get; }
    public LinearAttention? Linear { get; }
    public DenseMlp? Mlp { get; }
    public MoeBlock? Moe { get; }

    /// <summary>
    /// residual [T, H] is updated in place, except for the layer's last term: the feed-forward output is returned, to be
    /// added by the next layer together with its input norm (<see cref="IBackend.AddRmsNorm"/>) or by the caller.
    /// <paramref name="pending"/> is the previous layer's such output (null for the first layer).
    /// </summary>
    public Tensor Forward(Tensor residual, Tensor? pending, SequenceBatch batch, ModelState state, Scratch s, IRoutingObserver? observer)
    {
        var b = s.Backend;
        int t = batch.TokenCount, h = _c.HiddenSize;
        float eps = (float)_c.RmsNormEps;
        var normed = s.F32(t, h);
        var mixed = s.F32(t, h);
        if (pending is null) b.RmsNorm(residual, _inputNorm, normed, eps, _c.ZeroCenteredNorm);
        else b.AddRmsNorm(residual, pending, _inputNorm, normed, eps, _c.ZeroCenteredNorm);
        if (Attention is not null) Attention.Forward(normed, mixed, batch, state.Keys[_index]!, state.Values[_index]!, s);
        else Linear!.Forward(normed, mixed, batch, state.ConvStates[_index]!, state.RecurrentStates[_index]!, s);
        b.AddRmsNorm(residual, mixed, _postNorm, normed, eps, _c.ZeroCenteredNorm);
        if (Moe is not null) Moe.Forward(normed, mixed, s, observer);
        else Mlp!.Forward(normed, mixed, s);
        return mixed;
    }
}
