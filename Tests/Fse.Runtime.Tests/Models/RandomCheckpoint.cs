using System.Runtime.InteropServices;
using Fse.Kernels;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Weights;

namespace Fse.Runtime.Tests.Models;

/// <summary>
/// An in-memory checkpoint with fresh random weights for a config, named as on the hub. Its own list of tensors is
/// written from the HF modelling code independently of the runtime's manifest, so the two cross-check each other.
/// </summary>
internal sealed unsafe class RandomCheckpoint : ITensorSource, IDisposable
{
    private readonly Dictionary<string, (DType DType, int[] Shape, nint Data)> _tensors = [];

    public RandomCheckpoint(ModelConfig c, int seed, DType dtype = DType.F32, float routerScale = 3f)
    {
        var rng = new Random(seed);
        int h = c.HiddenSize, v = c.VocabSize;
        Add("model.embed_tokens.weight", dtype, rng, 1f, v, h);
        Add("model.norm.weight", dtype, rng, Norm(c), h);
        if (!c.TieWordEmbeddings) Add("lm_head.weight", dtype, rng, 1f / MathF.Sqrt(h), v, h);
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"model.layers.{i}.";
            Add(p + "input_layernorm.weight", dtype, rng, Norm(c), h);
            Add(p + "post_attention_layernorm.weight", dtype, rng, Norm(c), h);
            if (c.LayerTypes[i] == AttentionKind.Full)
            {
                int q = c.NumHeads * c.HeadDim, kv = c.NumKvHeads * c.HeadDim;
                string a = p + "self_attn.";
                Add(a + "q_proj.weight", dtype, rng, Proj(h), c.AttentionOutputGate ? 2 * q : q, h);
                Add(a + "k_proj.weight", dtype, rng, Proj(h), kv, h);
                Add(a + "v_proj.weight", dtype, rng, Proj(h), kv, h);
                Add(a + "o_proj.weight", dtype, rng, Proj(q), h, q);
                if (c.QkvBias)
                {
                    Add(a + "q_proj.bias", dtype, rng, 0.1f, c.AttentionOutputGate ? 2 * q : q);
                    Add(a + "k_proj.bias", dtype, rng, 0.1f, kv);
                    Add(a + "v_proj.bias", dtype, rng, 0.1f, kv);
                    if (c.Architecture == ModelArchitecture.Qwen3Next) Add(a + "o_proj.bias", dtype, rng, 0.1f, h);
                }
                if (c.QkNorm)
                {
                    Add(a + "q_norm.weight", dtype, rng, Norm(c), c.HeadDim);
                    Add(a + "k_norm.weight", dtype, rng, Norm(c), c.HeadDim);
                }
            }
            else
            {
                int keyDim = c.LinearNumKeyHeads * c.LinearKeyHeadDim, valueDim = c.LinearNumValueHeads * c.LinearValueHeadDim;
                int channels = 2 * keyDim + valueDim, nv = c.LinearNumValueHeads;
                string a = p + "linear_attn.";
                Add(a + "in_proj_qkvz.weight", dtype, rng, Proj(h), 2 * keyDim + 2 * valueDim, h);
                Add(a + "in_proj_ba.weight", dtype, rng, Proj(h), 2 * nv, h);
                Add(a + "conv1d.weight", dtype, rng, 0.5f, channels, 1, c.LinearConvKernelDim);
                AddValues(a + "dt_bias", dtype, [nv], Enumerable.Range(0, nv).Select(_ => 1f + 0.2f * Gaussian(rng)).ToArray());
                AddValues(a + "A_log", dtype, [nv], Enumerable.Range(0, nv).Select(_ => MathF.Log(1f + 15f * (float)rng.NextDouble())).ToArray());
                AddValues(a + "norm.weight", dtype, [c.LinearValueHeadDim], Enumerable.Range(0, c.LinearValueHeadDim).Select(_ => 1f + 0.1f * Gaussian(rng)).ToArray());
                Add(a + "out_proj.weight", dtype, rng, Proj(valueDim), h, valueDim);
            }
            string m = p + "mlp.";
            if (c.FeedForwardOf(i) == FeedForwardKind.Dense)
            {
                Mlp(m, dtype, rng, h, c.IntermediateSize);
                continue;
            }
            Add(m + "gate.weight", dtype, rng, routerScale / MathF.Sqrt(h), c.NumExperts, h);
            for (int e = 0; e < c.NumExperts; e++) Mlp($"{m}experts.{e}.", dtype, rng, h, c.MoeIntermediateSize);
            if (c.Scoring == RouterScoring.SigmoidGrouped)
            {
                AddValues(m + "gate.e_score_correction_bias", DType.F32, [c.NumExperts], Enumerable.Range(0, c.NumExperts).Select(_ => 0.1f * Gaussian(rng)).ToArray());
                if (c.SharedExpertIntermediateSize > 0) Mlp(m + "shared_experts.", dtype, rng, h, c.SharedExpertIntermediateSize);
            }
            else if (c.SharedExpertIntermediateSize > 0)
            {
                Mlp(m + "shared_expert.", dtype, rng, h, c.SharedExpertIntermediateSize);
                Add(m + "shared_expert_gate.weight", dtype, rng, 1f / MathF.Sqrt(h), 1, h);
            }
        }
    }

    public string Location => "memory";

    public IEnumerable<string> Names => _tensors.Keys;

    public bool TryGet(string name, out HostTensor tensor)
    {
        if (_tensors.TryGetValue(name, out var t))
        {
            tensor = new HostTensor(t.DType, t.Shape, (void*)t.Data);
            return true;
        }
        tensor = default;
        return false;
    }

    /// <summary>Overwrites a tensor's values (tests that change weights between loads).</summary>
    public void Set(string name, float[] values)
    {
        var t = _tensors[name];
        Write(t.DType, t.Data, values);
    }

    public float[] Get(string name)
    {
        TryGet(name, out var t);
        var values = new float[t.ElementCount];
        WeightLoader.ToF32(t, values);
        return values;
    }

    public void Remove(string name) => _tensors.Remove(name);

    public void Dispose()
    {
        foreach (var t in _tensors.Values) NativeMemory.Free((void*)t.Data);
        _tensors.Clear();
    }

    private static float Norm(ModelConfig c) => 0.1f;

    private static float Proj(int fanIn) => 1f / MathF.Sqrt(fanIn);

    private void Mlp(string prefix, DType dtype, Random rng, int h, int width)
    {
        Add(prefix + "gate_proj.weight", dtype, rng, Proj(h), width, h);
        Add(prefix + "up_proj.weight", dtype, rng, Proj(h), width, h);
        Add(prefix + "down_proj.weight", dtype, rng, Proj(width), h, width);
    }

    private void Add(string name, DType dtype, Random rng, float scale, params int[] shape)
    {
        var values = new float[Tensor.Count(shape)];
        bool isNorm = name.EndsWith("norm.weight", StringComparison.Ordinal) || name.EndsWith("layernorm.weight", StringComparison.Ordinal);
        for (int i = 0; i < values.Length; i++) values[i] = scale * Gaussian(rng) + (isNorm ? 1f : 0f);
        AddValues(name, dtype, shape, values);
    }

    private void AddValues(string name, DType dtype, int[] shape, float[] values)
    {
        var data = (nint)NativeMemory.Alloc((nuint)(values.Length * dtype.Size()));
        Write(dtype, data, values);
        _tensors[name] = (dtype, shape, data);
    }

    private static void Write(DType dtype, nint data, float[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            switch (dtype)
            {
                case DType.F32: ((float*)data)[i] = values[i]; break;
                case DType.BF16: ((ushort*)data)[i] = Bf16.FromF32(values[i]); break;
                case DType.F16: ((Half*)data)[i] = (Half)values[i]; break;
            }
        }
    }

    public static float Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
