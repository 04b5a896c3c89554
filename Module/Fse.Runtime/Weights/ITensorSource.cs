using Fse.Kernels;

namespace Fse.Runtime.Weights;

/// <summary>Named tensors in host memory: a memory-mapped checkpoint, or tensors made in memory.</summary>
public interface ITensorSource
{
    /// <summary>Where the tensors come from, for error messages (a directory or file).</summary>
    string Location { get; }

    bool TryGet(string name, out HostTensor tensor);

    /// <summary>
    /// A weight matrix as the loader should place it: the host bytes of <see cref="TryGet"/>, or, where the source can
    /// describe the values instead (random preset weights), a <see cref="RandomMatrix"/> the backend draws in its own memory.
    /// </summary>
    bool TryGetWeight(string name, out WeightTensor tensor)
    {
        bool found = TryGet(name, out var host);
        tensor = found ? host : default;
        return found;
    }
}
