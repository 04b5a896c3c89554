namespace Fse.Runtime.Checkpoints;

/// <summary>Parameter counts implied by a config: sums over <see cref="TensorManifest.Expected"/> (hub layout, no FSE slots).</summary>
public static class ParameterCount
{
    /// <summary>Every stored parameter.</summary>
    public static long Total(ModelConfig c) => TensorManifest.Expected(c).Sum(t => t.ElementCount);

    /// <summary>Parameters a single token touches: top-k routed experts plus everything else.</summary>
    public static long Active(ModelConfig c) =>
        TensorManifest.Expected(c).Where(t => t.Expert is null || t.Expert < c.NumExpertsPerTok).Sum(t => t.ElementCount);

    /// <summary>Bytes of the weights when stored in the config's dtype (tensors with a fixed dtype counted at theirs).</summary>
    public static long Bytes(ModelConfig c) =>
        TensorManifest.Expected(c).Sum(t => t.ElementCount * (t.DType?.BytesPerElement() ?? c.BytesPerElement));
}
