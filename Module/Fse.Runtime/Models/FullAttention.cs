using Fse.Kernels;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Weights;

namespace Fse.Runtime.Models;

/// <summary>
/// Grouped-query self-attention over the paged KV cache with the variants of the three families: q/k/v bias
/// (qwen2_moe, glm4_moe), per-head q/k RMSNorm (qwen3_next zero-centred, glm4_moe plain), partial rotary, and
/// Qwen3-Next's output gate (q_proj also yields a gate per head; the output is multiplied by sigmoid(gate)).
/// </summary>
internal sealed class FullAttention
{
    private readonly ModelConfig _c;

    /// <summary>q, k, v and (Qwen3-Next) the output gate stacked in that order: one input projection (<see cref="IBackend.MatMulSplit"/>).</summary>
    private readonly Tensor _inProj, _o;
    private readonly Tensor? _inBias, _oBias, _qNorm, _kNorm;

    public FullAttention(ModelConfig c, WeightLoader w, string prefix)
    {
        _c = c;
        int h = c.HiddenSize, q = c.NumHeads * c.HeadDim, kv = c.NumKvHeads * c.HeadDim;
        var parts = new List<RowBlock>();
        float[]? qBias = null, gateBias = null;
        if (c.AttentionOutputGate)
        {
            // HF views q_proj's output as [heads, 2·headDim] = [query | gate] per head; split the rows once here.
            var raw = w.Weight(prefix + "q_proj.weight", 2 * q, h);
            var (queryRows, gateRows) = SplitInterleavedHeads(c.NumHeads, c.HeadDim);
            parts.Add(new RowBlock(raw, queryRows));
            parts.Add(new RowBlock(w.Weight(prefix + "k_proj.weight", kv, h)));
            parts.Add(new RowBlock(w.Weight(prefix + "v_proj.weight", kv, h)));
            parts.Add(new RowBlock(raw, gateRows));
            if (c.QkvBias)
            {
                var values = Floats(w, prefix + "q_proj.bias", 2 * q);
                qBias = [.. queryRows.Select(r => values[r])];
                gateBias = [.. gateRows.Select(r => values[r])];
            }
        }
        else
        {
            parts.Add(new RowBlock(w.Weight(prefix + "q_proj.weight", q, h)));
            parts.Add(new RowBlock(w.Weight(prefix + "k_proj.weight", kv, h)));
            parts.Add(new RowBlock(w.Weight(prefix + "v_proj.weight", kv, h)));
            if (c.QkvBias) qBias = Floats(w, prefix + "q_proj.bias", q);
        }
        _inProj = w.StackRows(parts);
        _o = w.Matrix(prefix + "o_proj.weight", h, q);
        if (c.QkvBias)
        {
            float[] bias = [.. qBias!, .. Floats(w, prefix + "k_proj.bias", kv), .. Floats(w, prefix + "v_proj.bias", kv), .. gateBias ?? []];
            _inBias = w.Keep(w.Backend.Upload(bias, bias.Length));
            // Qwen3-Next ties the o_proj bias to attention_bias; the other families never have one.
            if (c.Architecture == ModelArchitecture.Qwen3Next) _oBias = w.Vector(prefix + "o_proj.bias", h);
        }
        if (c.QkNorm)
        {
            _qNorm = w.Vector(prefix + "q_norm.weight", c.HeadDim);
            _kNorm = w.Vector(prefix + "k_norm.weight", c.HeadDim);
        }
    }

    private static float[] Floats(WeightLoader w, string name, int count)
    {
        var values = new float[count];
        WeightLoader.ToF32(w.Host(name, count), values);
        return values;
    }

    public static (int[] Query, int[] Gate) SplitInterleavedHeads(int heads, int headDim)
    {
        var query = new int[heads * headDim];
        var gate = new int[heads * headDim];
        for (int hh = 0; hh < heads; hh++)
            for (int d = 0; d < headDim; d++)
            {
                query[hh * headDim + d] = hh * 2 * headDim + d;
                gate[hh * headDim + d] = hh * 2 * headDim + headDim + d;
            }
        return (query, gate);
    }

    public void Forward(Tensor x, Tensor output, SequenceBatch batch, Tensor keyCache, Tensor valueCache, Scratch s)
    {
        var b = s.Backend;
        int t = batch.TokenCount, hd = _c.HeadDim;
        var q = s.F32(t, _c.NumHeads, hd);
        var k = s.F32(t, _c.NumKvHeads, hd);
        var v = s.F32(t, _c.NumKvHeads, hd);
        var gate = _c.AttentionOutputGate ? s.F32(t, _c.NumHeads * hd) : null;
        b.MatMulSplit(x, _inProj, _inBias, gate is null ? [q, k, v] : [q, k, v, gate]);
        b.NormRopeQueryKey(q, k, _qNorm, _kNorm, (float)_c.RmsNormEps, _c.ZeroCenteredNorm, batch, _c.RotaryDim, (float)_c.RopeTheta);
        var attn = s.F32(t, _c.NumHeads, hd);
        b.PagedAttention(q, k, v, keyCache, valueCache, batch, 1f / MathF.Sqrt(hd), attn);
        if (gate is not null) b.SigmoidMul(attn, gate, attn);
        b.MatMul(attn.Reshape(t, _c.NumHeads * hd), _o, _oBias, output);
    }
}
