using Fse.Kernels;
using Fse.Runtime.Models;

namespace Fse.Runtime.Moe;

/// <summary>Receives each MoE layer's routing as it happens (for parity checks and routing statistics).</summary>
public interface IRoutingObserver
{
    /// <param name="layer">The decoder layer index.</param>
    /// <param name="ids">[T, slots] expert ids, slots = top-k (+ shared slots under FSE).</param>
    /// <param name="weights">[T, slots] routing weights.</param>
    void OnRouted(int layer, int[] ids, float[] weights, int slotsPerToken);
}

/// <summary>An MoE feed-forward block: a router that picks experts and a runner that executes them.</summary>
public sealed class MoeBlock
{
    internal MoeBlock(int layer, MoeRouter router, MoeRunner runner)
    {
        Layer = layer;
        Router = router;
        Runner = runner;
    }

    public int Layer { get; }
    public MoeRouter Router { get; }
    public MoeRunner Runner { get; }

    internal void Forward(Tensor x, Tensor output, Scratch s, IRoutingObserver? observer)
    {
        var (ids, weights) = Router.Route(x, s);
        if (observer is not null)
        {
            var hostIds = new int[ids.ElementCount];
            var hostWeights = new float[weights.ElementCount];
            s.Backend.Download(ids, hostIds);
            s.Backend.Download(weights, hostWeights);
            observer.OnRouted(Layer, hostIds, hostWeights, Router.SlotsPerToken);
        }
        Runner.Run(x, ids, weights, output, s);
    }
}
