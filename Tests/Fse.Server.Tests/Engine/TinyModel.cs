using Fse.Kernels;
using Fse.Runtime;
using Fse.Runtime.Inference;
using Fse.Runtime.Models;
using Fse.Runtime.Presets;

namespace Fse.Server.Tests.Engine;

/// <summary>A tiny preset loaded on the CPU once per test class, with its single-stream reference generator.</summary>
public sealed class TinyModel : IDisposable
{
    private readonly PresetSource _source;

    public TinyModel() : this("tiny-qwen3-next") { }

    internal TinyModel(string preset, int seed = 0)
    {
        _source = new PresetSource(preset, seed: seed);
        Model = CausalLm.Load(_source.Config, _source, Devices.Create("cpu"), FseMode.On);
        Reference = new Generator(Model, blockSize: 16);
    }

    public CausalLm Model { get; }
    public Generator Reference { get; }
    public int Vocab => Model.Config.VocabSize;

    /// <summary>The same weights under a config whose max_position_embeddings is <paramref name="positions"/> (for requests that must outlive a deadline).</summary>
    public CausalLm LoadWithContext(int positions) =>
        CausalLm.Load(_source.Config with { MaxPositionEmbeddings = positions }, _source, Devices.Create("cpu"), FseMode.On);

    public static int[] RandomTokens(Random rng, int count, int vocab) => Enumerable.Range(0, count).Select(_ => rng.Next(vocab)).ToArray();

    /// <summary>Greedy tokens of the single-stream generator (no stop tokens).</summary>
    public int[] Greedy(int[] prompt, int maxTokens) => Reference.Generate(prompt, maxTokens, SamplingParams.Greedy, []).TokenIds;

    public void Dispose()
    {
        Model.Dispose();
        _source.Dispose();
    }
}
