namespace Fse.Kernels;

/// <summary>The argument checks every backend's routing kernels share.</summary>
public static class RoutingShapes
{
    public static void Check(int width, int experts, int shared, int topK, int tokens, int slots, Tensor ids, Tensor weights, bool sharedColumns)
    {
        if (topK < 1 || topK > experts) throw new ArgumentException($"top-k {topK} of {experts} experts.");
        if (sharedColumns && width != experts + shared) throw new ArgumentException($"Router logits have {width} columns; {experts} experts + {shared} shared slots need {experts + shared}.");
        if (ids.DType != DType.I32 || ids.ElementCount != (long)tokens * slots || weights.ElementCount != (long)tokens * slots)
            throw new ArgumentException($"Routing outputs must be [{tokens}, {slots}]: ids {ids}, weights {weights}.");
    }
}
