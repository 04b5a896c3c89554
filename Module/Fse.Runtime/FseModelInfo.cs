using Fse.Runtime.Checkpoints;

namespace Fse.Runtime;

/// <summary>A checkpoint's geometry at a glance: what <c>Get-FseModel</c> shows.</summary>
public sealed class FseModelInfo
{
    public required string Name { get; init; }
    public required string Path { get; init; }
    public required string Architecture { get; init; }
    public required int Layers { get; init; }
    public required int FullAttentionLayers { get; init; }
    public required int LinearAttentionLayers { get; init; }
    public required int MoeLayers { get; init; }
    public required int HiddenSize { get; init; }
    public required int VocabSize { get; init; }
    public required int Experts { get; init; }
    public required int TopK { get; init; }
    public required int ExpertWidth { get; init; }
    public required int SharedExperts { get; init; }
    public required int SharedExpertWidth { get; init; }

    /// <summary>Expert slots the shared expert takes when FSE is on.</summary>
    public required int SharedExpertSlots { get; init; }
    public required string Routing { get; init; }
    public required string DType { get; init; }
    public required long ParameterCount { get; init; }
    public required long ActiveParameterCount { get; init; }

    /// <summary>Bytes of the weights in the checkpoint dtype.</summary>
    public required long Bytes { get; init; }
    public required bool HasTokenizer { get; init; }

    public static FseModelInfo From(ModelConfig c, string directory)
    {
        long total = Checkpoints.ParameterCount.Total(c);
        int moeLayers = Enumerable.Range(0, c.NumLayers).Count(i => c.FeedForwardOf(i) == FeedForwardKind.Moe);
        int linear = c.LayerTypes.Count(t => t == AttentionKind.Linear);
        return new FseModelInfo
        {
            Name = System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(directory)),
            Path = directory,
            Architecture = c.ModelType,
            Layers = c.NumLayers,
            FullAttentionLayers = c.NumLayers - linear,
            LinearAttentionLayers = linear,
            MoeLayers = moeLayers,
            HiddenSize = c.HiddenSize,
            VocabSize = c.VocabSize,
            Experts = c.NumExperts,
            TopK = c.NumExpertsPerTok,
            ExpertWidth = c.MoeIntermediateSize,
            SharedExperts = c.NumSharedExperts,
            SharedExpertWidth = c.SharedExpertIntermediateSize,
            SharedExpertSlots = c.SharedExpertSlots,
            Routing = c.Scoring == RouterScoring.Softmax ? "softmax" : "sigmoid-grouped",
            DType = c.DType,
            ParameterCount = total,
            ActiveParameterCount = Checkpoints.ParameterCount.Active(c),
            Bytes = Checkpoints.ParameterCount.Bytes(c),
            HasTokenizer = File.Exists(System.IO.Path.Combine(directory, "tokenizer.json")),
        };
    }

    /// <summary>Reads a checkpoint directory's config and summarises it.</summary>
    public static FseModelInfo Load(string directory) => From(ModelConfig.Load(directory), directory);
}
