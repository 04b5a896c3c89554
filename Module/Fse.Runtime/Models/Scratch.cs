using Fse.Kernels;

namespace Fse.Runtime.Models;

/// <summary>Activation tensors of one forward step, freed together when the step ends.</summary>
internal sealed class Scratch(IBackend backend) : IDisposable
{
    private readonly List<Tensor> _owned = [];

    public IBackend Backend => backend;

    /// <summary>An F32 output tensor with unspecified contents: every activation of a step is written whole by the op that produces it.</summary>
    public Tensor F32(params int[] shape) => Own(backend.Empty(DType.F32, shape));

    public Tensor I32(params int[] shape) => Own(backend.Empty(DType.I32, shape));

    public Tensor Own(Tensor t)
    {
        _owned.Add(t);
        return t;
    }

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
    }
}
