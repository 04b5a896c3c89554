using System.Numerics.Tensors;

namespace Fse.Kernels.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void PagedAttention(Tensor q, Tensor k, Tensor v, Tensor keyCache, Tensor valueCache, SequenceBatch batch, float scale, Tensor output)
    {
        int tokens = batch.TokenCount;
        if (q.Rank != 3 || k.Rank != 3 || q.Dim(0) != tokens || k.Dim(0) != tokens || v.ElementCount != k.ElementCount || output.ElementCount != q.ElementCount)
            throw Shapes("PagedAttention", q, k, v, output);
        int heads = q.Dim(1), hd = q.Dim(2), kvHeads = k.Dim(1);
        if (heads % kvHeads != 0 || k.Dim(2) != hd || keyCache.Rank != 3 || keyCache.Dim(1) != kvHeads || keyCache.Dim(2) != hd)
            throw Shapes("PagedAttention", q, k, keyCache);
        int group = heads / kvHeads, rowLen = kvHeads * hd;
        var kc = C(keyCache).F32;
        var vc = C(valueCache).F32;
        var ks = C(k).F32;
        var vs = C(v).F32;
        for (int t = 0; t < tokens; t++)
        {
            int slot = batch.SlotMapping[t];
            if ((uint)slot >= (uint)keyCache.Dim(0)) throw new ArgumentOutOfRangeException(nameof(batch), $"Cache slot {slot} outside {keyCache}.");
            ks.Slice(t * rowLen, rowLen).CopyTo(kc.Slice(slot * rowLen, rowLen));
            vs.Slice(t * rowLen, rowLen).CopyTo(vc.Slice(slot * rowLen, rowLen));
        }

        var seqOf = new int[tokens];
        for (int s = 0; s < batch.SequenceCount; s++)
            for (int t = batch.SeqStart[s]; t < batch.SeqStart[s + 1]; t++) seqOf[t] = s;

        float* qp = (float*)C(q).Data, op = (float*)C(output).Data, kcp = (float*)C(keyCache).Data, vcp = (float*)C(valueCache).Data;
        void Head(int job)
        {
            int t = job / heads, h = job % heads, kvh = h / group, s = seqOf[t];
            int context = batch.Positions[t] + 1;
            var qv = new ReadOnlySpan<float>(qp + ((long)t * heads + h) * hd, hd);
            float[] scores = new float[context];
            for (int p = 0; p < context; p++)
            {
                int slot = batch.BlockTable[s * batch.MaxBlocksPerSeq + p / batch.BlockSize] * batch.BlockSize + p % batch.BlockSize;
                scores[p] = TensorPrimitives.Dot(qv, new ReadOnlySpan<float>(kcp + (long)slot * rowLen + kvh * hd, hd)) * scale;
            }
            Numerics.SoftmaxInPlace(scores);
            var o = new Span<float>(op + ((long)t * heads + h) * hd, hd);
            o.Clear();
            for (int p = 0; p < context; p++)
            {
                int slot = batch.BlockTable[s * batch.MaxBlocksPerSeq + p / batch.BlockSize] * batch.BlockSize + p % batch.BlockSize;
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(vcp + (long)slot * rowLen + kvh * hd, hd), scores[p], o, o);
            }
        }
        if ((long)tokens * heads * batch.Positions.Max() < 4096)
            for (int j = 0; j < tokens * heads; j++) Head(j);
        else
            Parallel.For(0, tokens * heads, Head);
    }
}
