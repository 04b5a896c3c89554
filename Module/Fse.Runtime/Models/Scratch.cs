using Fse.Kernels;

namespace Fse.Runtime.Models;

/// <summary>Activation tensors of one forward step, freed together when the step ends.</summary>
internal sealed class Scratch(IBackend backend) : IDisposable
{
    private readonly List<Tensor> _owned = [];

    public IBackend Backend => backend;

    public Tensor F32(params int[] shape) => Own(backend.Allocate(DType.F32, shape));

    public Tensor I32(params int[] shape) => Own(backend.Allocate(DType.I32, shape));

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
