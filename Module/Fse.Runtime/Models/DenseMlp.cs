using Fse.Kernels;
using Fse.Runtime.Weights;

namespace Fse.Runtime.Models;

/// <summary>A SwiGLU MLP: <c>down · (silu(gate·x) ⊙ up·x)</c>. Dense layers and, with FSE off, the shared expert.</summary>
internal sealed class DenseMlp
{
    private readonly Tensor _gate, _up, _down;

    public DenseMlp(WeightLoader w, string prefix, int hidden, int width)
    {
        _gate = w.Matrix(prefix + "gate_proj.weight", width, hidden);
        _up = w.Matrix(prefix + "up_proj.weight", width, hidden);
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
        b.MatMul(x, _gate, null, g);
        b.MatMul(x, _up, null, u);
        b.SiluMul(g, u, g);
        b.MatMul(g, _down, null, output);
    }
}
