namespace Fse.Kernels;

/// <summary>The checks, row blocks and per-block fallback of <see cref="IBackend.MatMulSplit"/>, shared by its implementations.</summary>
public static class MatMulSplitShapes
{
    /// <summary>Each output with its row count n_i; throws unless the outputs are [T, n_i] blocks that sum to the weight's rows.</summary>
    public static IReadOnlyList<(Tensor Output, int Rows)> Blocks(Tensor x, Tensor weight, Tensor? bias, IReadOnlyList<Tensor> outputs)
    {
        long tokens = x.Rows;
        if (outputs.Count == 0) throw new ArgumentException("MatMulSplit needs at least one output.");
        if (bias is not null && bias.ElementCount != weight.Dim(0)) throw new ArgumentException($"MatMulSplit: bias {bias} does not match weight {weight}.");
        var blocks = new List<(Tensor, int)>(outputs.Count);
        long rows = 0;
        foreach (var o in outputs)
        {
            if (tokens == 0 ? o.ElementCount != 0 : o.ElementCount % tokens != 0)
                throw new ArgumentException($"MatMulSplit: output {o} is not [{tokens}, n] for input {x}.");
            int n = tokens == 0 ? 0 : checked((int)(o.ElementCount / tokens));
            blocks.Add((o, n));
            rows += n;
        }
        if (tokens > 0 && rows != weight.Dim(0))
            throw new ArgumentException($"MatMulSplit: the outputs' {rows} columns do not cover weight {weight}'s {weight.Dim(0)} rows.");
        return blocks;
    }

    /// <summary>One <see cref="IBackend.MatMul"/> per block, each on its rows of the weight (and bias).</summary>
    public static void EachBlock(IBackend backend, Tensor x, Tensor weight, Tensor? bias, IReadOnlyList<(Tensor Output, int Rows)> blocks)
    {
        int offset = 0;
        foreach (var (output, rows) in blocks)
        {
            backend.MatMul(x, weight.Slice(offset, rows), bias?.Slice(offset, rows), output);
            offset += rows;
        }
    }
}
