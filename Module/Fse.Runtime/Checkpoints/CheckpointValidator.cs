namespace Fse.Runtime.Checkpoints;

/// <summary>What <see cref="CheckpointValidator.Validate"/> found in a checkpoint that matches its config.</summary>
/// <param name="Layout">How the routed experts are stored.</param>
/// <param name="Expected">The tensors the config implies, all present with the right shapes.</param>
/// <param name="Unexpected">Tensors the config does not use (MTP / next-n layers, extra buffers), sorted, for callers to log.</param>
public sealed record CheckpointValidation(ExpertLayout Layout, IReadOnlyList<ExpectedTensor> Expected, IReadOnlyList<string> Unexpected);

/// <summary>Checks a checkpoint against the tensors its config implies.</summary>
public static class CheckpointValidator
{
    /// <summary>
    /// Every tensor of <see cref="TensorManifest.Expected"/> must be present with its shape, else a
    /// <see cref="CheckpointErrorKind.TensorMissing"/> or <see cref="CheckpointErrorKind.ShapeMismatch"/> error. The expert
    /// layout is detected from the first MoE layer (packed when it holds <c>mlp.experts.gate_up_proj</c>).
    /// </summary>
    public static CheckpointValidation Validate(ModelConfig config, Checkpoint checkpoint)
    {
        var layout = DetectLayout(config, checkpoint);
        var expected = TensorManifest.Expected(config, layout);
        var missing = new List<ExpectedTensor>();
        foreach (var t in expected)
        {
            if (!checkpoint.TryGet(t.Name, out var found))
            {
                missing.Add(t);
                continue;
            }
            if (found.Shape != t.Shape)
                throw new CheckpointException(CheckpointErrorKind.ShapeMismatch, found.FilePath,
                    $"Checkpoint '{checkpoint.Directory}': tensor '{t.Name}' has shape {found.Shape} in '{Path.GetFileName(found.FilePath)}', "
                    + $"but its config.json implies {t.Shape}.", t.Name);
        }
        if (missing.Count > 0)
        {
            var first = missing[0];
            var more = missing.Count > 1
                ? $" {missing.Count - 1} more are missing too: {string.Join(", ", missing.Skip(1).Take(4).Select(m => m.Name))}{(missing.Count > 5 ? ", ..." : "")}."
                : "";
            throw new CheckpointException(CheckpointErrorKind.TensorMissing, checkpoint.Directory,
                $"Checkpoint '{checkpoint.Directory}' has no tensor '{first.Name}' (shape {first.Shape}), which its config.json ({config.ModelType}) requires.{more}",
                first.Name);
        }
        var names = new HashSet<string>(expected.Select(t => t.Name), StringComparer.Ordinal);
        var unexpected = checkpoint.TensorNames.Where(n => !names.Contains(n)).Order(StringComparer.Ordinal).ToList();
        return new CheckpointValidation(layout, expected, unexpected);
    }

    public static ExpertLayout DetectLayout(ModelConfig config, Checkpoint checkpoint)
    {
        int layer = TensorManifest.FirstMoeLayer(config);
        return layer >= 0 && checkpoint.Contains($"model.layers.{layer}.mlp.experts.gate_up_proj") ? ExpertLayout.Packed : ExpertLayout.PerExpert;
    }
}
