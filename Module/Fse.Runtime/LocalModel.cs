using Fse.Kernels;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Models;
using Fse.Runtime.Weights;

namespace Fse.Runtime;

/// <summary>
/// A checkpoint directory loaded for inference: its config, its memory-mapped weights (validated against the
/// config's tensor manifest), and the model graph with the chosen FSE plan. Either everything loads or nothing
/// stays loaded.
/// </summary>
public sealed class LocalModel : IDisposable
{
    private readonly Checkpoint _checkpoint;

    private LocalModel(string directory, ModelConfig config, Checkpoint checkpoint, CausalLm model, IReadOnlyList<string> ignored)
    {
        Directory = directory;
        Config = config;
        _checkpoint = checkpoint;
        Model = model;
        IgnoredTensors = ignored;
    }

    public string Directory { get; }
    public ModelConfig Config { get; }
    public CausalLm Model { get; }
    public FseMode Fse => Model.Fse;
    public IBackend Backend => Model.Backend;

    /// <summary>Tensors in the files that the model does not use (e.g. multi-token-prediction layers).</summary>
    public IReadOnlyList<string> IgnoredTensors { get; }

    public static LocalModel Open(string directory, FseMode fse, IBackend backend)
    {
        var config = ModelConfig.Load(directory);
        var checkpoint = Checkpoint.Open(directory);
        try
        {
            var validation = CheckpointValidator.Validate(config, checkpoint);
            var model = CausalLm.Load(config, new CheckpointSource(checkpoint), backend, fse);
            return new LocalModel(directory, config, checkpoint, model, validation.Unexpected);
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Model.Dispose();
        _checkpoint.Dispose();
    }
}
