using Fse.Kernels;

namespace Fse.Runtime.Weights;

/// <summary>Named tensors in host memory: a memory-mapped checkpoint, or tensors made in memory.</summary>
public interface ITensorSource
{
    /// <summary>Where the tensors come from, for error messages (a directory or file).</summary>
    string Location { get; }

    bool TryGet(string name, out HostTensor tensor);
}
