using Fse.Kernels;
using Fse.Runtime.Weights;

namespace Fse.Runtime.Models;

/// <summary>
/// A SwiGLU MLP: <c>down · (silu(gate·x) ⊙ up·x)</c>. Dense layers and, with FSE off, the shared expert. Gate and up
/// are stacked into one weight (as vLLM's merged gate_up projection), read in one pass by <see cref="IBackend.MatMulSplit"/>.
/// </summary>
internal sealed class DenseMlp
{
    private readonly Tensor _gateUp, _down;

    public DenseMlp(WeightLoader w, string prefix, int hidden, int width)
    {
        _gateUp = w.StackRows([new RowBlock(w.Weight(prefix + "gate_proj.weight", width, hidden)), new RowBlock(w.Weight(prefix + "up_proj.weight", width, hidden))]);
        _down = w.Matrix(prefix + "down_proj.weight", hidden, width);
        Width = width;
    }

    public int Width { get; }

    public void Forward(Tensor x, Tensor output, Scratch s)
    {
        var b = s.Backend;
        int t = checked((int)x.Rows);
        var g = s.F32(t, Width);
        var u = s.F32(t, Width);
        b.MatMulSplit(x, _gateUp, null, [g, u]);
        b.SiluMul(g, u, g);
        b.MatMul(g, _down, null, output);
    }
}
