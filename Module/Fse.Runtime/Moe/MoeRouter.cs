using Fse.Kernels;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Models;

namespace Fse.Runtime.Moe;

/// <summary>
/// Produces each token's expert ids and weights: one GEMM over the router weight, then one routing kernel.
/// With FSE on, the weight is the fused [E+S, H] gate (Qwen) and the routing kernel also writes the S shared
/// slots (ids E.., weight sigmoid(shared gate) for Qwen, 1 for GLM); with FSE off it is [E, H] and the output has
/// exactly top-k slots, all ids below E.
/// </summary>
public sealed class MoeRouter
{
    private readonly Tensor _weight;
    private readonly Tensor? _bias;

    internal MoeRouter(ModelConfig c, Tensor weight, Tensor? bias, int sharedSlots)
    {
        Config = c;
        _weight = weight;
        _bias = bias;
        SharedSlots = sharedSlots;
        int expectedRows = c.NumExperts + (c.Scoring == RouterScoring.Softmax ? sharedSlots : 0);
        if (weight.Dim(0) != expectedRows)
            throw new InvalidOperationException($"Router weight has {weight.Dim(0)} rows; {c.NumExperts} experts with {sharedSlots} shared slots need {expectedRows}.");
    }

    public ModelConfig Config { get; }

    /// <summary>Shared-expert slots the routing output carries after the top-k routed ones (0 with FSE off).</summary>
    public int SharedSlots { get; }

    /// <summary>Rows of the router GEMM: E, or E+S when the shared gate is fused in.</summary>
    public int Width => _weight.Dim(0);

    /// <summary>Slots per token in the routing output: top-k plus shared slots.</summary>
    public int SlotsPerToken => Config.NumExpertsPerTok + SharedSlots;

    /// <summary>Routes x [T, H]; returns ids I32 [T, k+S] and weights F32 [T, k+S] (owned by the caller).</summary>
    public (Tensor Ids, Tensor Weights) Route(IBackend b, Tensor x)
    {
        int t = checked((int)x.Rows);
        var logits = b.Empty(DType.F32, t, Width);
        var ids = b.Empty(DType.I32, t, SlotsPerToken);
        var weights = b.Empty(DType.F32, t, SlotsPerToken);
        try
        {
            b.MatMul(x, _weight, null, logits);
            if (Config.Scoring == RouterScoring.Softmax)
                b.RouteSoftmax(logits, Config.NumExperts, Config.NumExpertsPerTok, Config.NormTopkProb, SharedSlots, ids, weights);
            else
                b.RouteSigmoidGrouped(logits, _bias!, Config.NumExpertsPerTok, Config.NGroup, Config.TopkGroup, Config.NormTopkProb,
                    (float)Config.RoutedScalingFactor, SharedSlots, ids, weights);
        }
        catch
        {
            ids.Dispose();
            weights.Dispose();
            throw;
        }
        finally { logits.Dispose(); }
        return (ids, weights);
    }

    internal (Tensor Ids, Tensor Weights) Route(Tensor x, Scratch s)
    {
        var (ids, w) = Route(s.Backend, x);
        return (s.Own(ids), s.Own(w));
    }
}
