using Fse.Kernels;
using Fse.Runtime.Checkpoints;

namespace Fse.Runtime.Weights;

/// <summary>A memory-mapped checkpoint as a tensor source: views straight into the mapped files.</summary>
public sealed unsafe class CheckpointSource(Checkpoint checkpoint) : ITensorSource
{
    public string Location => checkpoint.Directory;

    public bool TryGet(string name, out HostTensor tensor)
    {
        if (!checkpoint.TryGet(name, out var view))
        {
            tensor = default;
            return false;
        }
        var dtype = view.DType switch
        {
            SafetensorsDType.F32 => DType.F32,
            SafetensorsDType.F16 => DType.F16,
            SafetensorsDType.BF16 => DType.BF16,
            _ => throw new CheckpointException(CheckpointErrorKind.UnsupportedDType, view.FilePath, $"'{view.FilePath}': tensor '{name}' has an unsupported dtype.", name),
        };
        tensor = new HostTensor(dtype, view.Shape.Dims.Select(d => checked((int)d)).ToArray(), view.Pointer);
        return true;
    }
}
