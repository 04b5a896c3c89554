using Fse.Kernels;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Weights;

namespace Fse.Runtime.Models;

/// <summary>
/// Qwen3-Next's Gated DeltaNet layer. HF packs in_proj_qkvz as [keyHeads, q|k|v-group|z-group] and in_proj_ba as
/// [keyHeads, b-group|a-group] (fix_query_key_value_ordering); the rows are regrouped once at load into
/// q|k|v (the conv channel order), z, b and a, and stacked into one input projection, so the kernels see contiguous
/// blocks and a decode step reads the projection in one pass (<see cref="IBackend.MatMulSplit"/>).
/// </summary>
internal sealed class LinearAttention
{
    private readonly ModelConfig _c;
    private readonly Tensor _inProj, _conv, _aLog, _dtBias, _norm, _out;

    public LinearAttention(ModelConfig c, WeightLoader w, string prefix)
    {
        _c = c;
        int h = c.HiddenSize, nk = c.LinearNumKeyHeads, dk = c.LinearKeyHeadDim, nv = c.LinearNumValueHeads, dv = c.LinearValueHeadDim;
        int keyDim = nk * dk, valueDim = nv * dv, channels = 2 * keyDim + valueDim, kernel = c.LinearConvKernelDim;
        var (qkvRows, zRows) = QkvzRows(nk, dk, nv, dv);
        var (bRows, aRows) = BaRows(nk, nv);
        var qkvz = w.Weight(prefix + "in_proj_qkvz.weight", 2 * keyDim + 2 * valueDim, h);
        var ba = w.Weight(prefix + "in_proj_ba.weight", 2 * nv, h);
        _inProj = w.StackRows([new RowBlock(qkvz, [.. qkvRows, .. zRows]), new RowBlock(ba, [.. bRows, .. aRows])]);
        _conv = w.UploadF32(w.Host(prefix + "conv1d.weight", channels, 1, kernel), [channels, kernel]);
        _aLog = w.Vector(prefix + "A_log", nv);
        _dtBias = w.Vector(prefix + "dt_bias", nv);
        _norm = w.Vector(prefix + "norm.weight", dv);
        _out = w.Matrix(prefix + "out_proj.weight", h, valueDim);
    }

    /// <summary>Row order turning HF's grouped in_proj_qkvz into [q heads | k heads | v heads] and [z heads].</summary>
    public static (int[] Qkv, int[] Z) QkvzRows(int nk, int dk, int nv, int dv)
    {
        int r = nv / nk, group = 2 * dk + 2 * r * dv;
        var q = new List<int>();
        var k = new List<int>();
        var v = new List<int>();
        var z = new List<int>();
        for (int g = 0; g < nk; g++)
        {
            int baseRow = g * group;
            q.AddRange(Enumerable.Range(baseRow, dk));
            k.AddRange(Enumerable.Range(baseRow + dk, dk));
            v.AddRange(Enumerable.Range(baseRow + 2 * dk, r * dv));
            z.AddRange(Enumerable.Range(baseRow + 2 * dk + r * dv, r * dv));
        }
        return ([.. q, .. k, .. v], [.. z]);
    }

    /// <summary>Row order turning HF's grouped in_proj_ba into [b per value head] and [a per value head].</summary>
    public static (int[] B, int[] A) BaRows(int nk, int nv)
    {
        int r = nv / nk;
        var b = new List<int>();
        var a = new List<int>();
        for (int g = 0; g < nk; g++)
        {
            b.AddRange(Enumerable.Range(g * 2 * r, r));
            a.AddRange(Enumerable.Range(g * 2 * r + r, r));
        }
        return ([.. b], [.. a]);
    }

    public DeltaRuleForm Form { get; set; } = DeltaRuleForm.Auto;

    public void Forward(Tensor x, Tensor output, SequenceBatch batch, Tensor convState, Tensor recurrentState, Scratch s)
    {
        var be = s.Backend;
        int t = batch.TokenCount, nv = _c.LinearNumValueHeads, dv = _c.LinearValueHeadDim;
        var qkv = s.F32(t, 2 * _c.LinearNumKeyHeads * _c.LinearKeyHeadDim + nv * dv);
        var z = s.F32(t, nv * dv);
        var bb = s.F32(t, nv);
        var aa = s.F32(t, nv);
        be.MatMulSplit(x, _inProj, null, [qkv, z, bb, aa]);
        var core = s.F32(t, nv * dv);
        be.GatedDeltaNet(new GatedDeltaNetArgs
        {
            KeyHeads = _c.LinearNumKeyHeads,
            KeyDim = _c.LinearKeyHeadDim,
            ValueHeads = nv,
            ValueDim = dv,
            ConvKernel = _c.LinearConvKernelDim,
            NormEps = (float)_c.RmsNormEps,
            MixedQkv = qkv,
            Z = z,
            B = bb,
            A = aa,
            ConvWeight = _conv,
            ALog = _aLog,
            DtBias = _dtBias,
            NormWeight = _norm,
            ConvState = convState,
            RecurrentState = recurrentState,
            Output = core,
            Form = Form,
        }, batch);
        be.MatMul(core, _out, null, output);
    }
}
