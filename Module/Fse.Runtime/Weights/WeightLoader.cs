using System.Runtime.InteropServices;
using Fse.Kernels;
using Fse.Runtime.Checkpoints;

namespace Fse.Runtime.Weights;

/// <summary>
/// Moves named checkpoint tensors onto a backend with their shapes checked, and makes the derived tensors the
/// weight plan needs (row permutations, concatenations, FSE slots) in host buffers it keeps alive.
/// Big matrices keep their dtype; small vectors (norms, biases, DeltaNet parameters) become F32.
/// </summary>
public sealed unsafe class WeightLoader(ITensorSource source, IBackend backend) : IDisposable
{
    private readonly List<HostBuffer> _buffers = [];
    private readonly List<Tensor> _tensors = [];

    public ITensorSource Source => source;
    public IBackend Backend => backend;

    /// <summary>The tensor as stored, with its shape checked.</summary>
    public HostTensor Host(string name, params int[] shape)
    {
        if (!source.TryGet(name, out var t))
            throw new CheckpointException(CheckpointErrorKind.TensorMissing, source.Location, $"'{source.Location}' has no tensor '{name}'.", name);
        if (!t.Shape.SequenceEqual(shape))
            throw new CheckpointException(CheckpointErrorKind.ShapeMismatch, source.Location,
                $"'{source.Location}': tensor '{name}' has shape [{string.Join(", ", t.Shape)}], expected [{string.Join(", ", shape)}].", name);
        if (t.DType == DType.I32)
            throw new CheckpointException(CheckpointErrorKind.UnsupportedDType, source.Location, $"'{source.Location}': tensor '{name}' is not a float tensor.", name);
        return t;
    }

    public bool Has(string name) => source.TryGet(name, out _);

    /// <summary>A matrix in its checkpoint dtype.</summary>
    public Tensor Matrix(string name, params int[] shape) => Keep(backend.Upload(Host(name, shape)));

    /// <summary>A small tensor converted to F32 (norm weights, biases, conv weights, DeltaNet parameters).</summary>
    public Tensor Vector(string name, params int[] shape) => UploadF32(Host(name, shape), shape[^1] == 1 && shape.Length > 1 ? [shape[0]] : shape);

    /// <summary>An F32 tensor with a new shape of the same element count.</summary>
    public Tensor UploadF32(HostTensor t, int[] shape)
    {
        var values = new float[t.ElementCount];
        ToF32(t, values);
        return Keep(backend.Upload(values, shape));
    }

    /// <summary>Rows of <paramref name="t"/> gathered in the order <paramref name="rows"/> gives, as a matrix in t's dtype.</summary>
    public Tensor GatherRows(HostTensor t, IReadOnlyList<int> rows)
    {
        int cols = (int)(t.ElementCount / t.Shape[0]);
        int rowBytes = cols * t.DType.Size();
        var buffer = NewBuffer(t.DType, rows.Count, cols);
        var src = new ReadOnlySpan<byte>((void*)t.Data, checked((int)t.ByteLength));
        for (int i = 0; i < rows.Count; i++) src.Slice(rows[i] * rowBytes, rowBytes).CopyTo(buffer.Bytes.Slice(i * rowBytes));
        return Keep(backend.Upload(buffer.AsTensor()));
    }

    /// <summary>Stacks whole tensors of one dtype and column count along rows (the fused router gate).</summary>
    public Tensor ConcatRows(IReadOnlyList<HostTensor> parts)
    {
        int cols = parts[0].Shape[^1];
        var dtype = parts[0].DType;
        int rows = 0;
        foreach (var p in parts)
        {
            if (p.DType != dtype || p.Shape[^1] != cols) throw new ArgumentException("Concatenated tensors must share dtype and columns.");
            rows += (int)(p.ElementCount / cols);
        }
        var buffer = NewBuffer(dtype, rows, cols);
        int offset = 0;
        foreach (var p in parts)
        {
            var bytes = new ReadOnlySpan<byte>((void*)p.Data, checked((int)p.ByteLength));
            bytes.CopyTo(buffer.Bytes.Slice(offset));
            offset += bytes.Length;
        }
        return Keep(backend.Upload(buffer.AsTensor()));
    }

    /// <summary>Rows [start, start+count) of a [rows, cols] tensor into a [width, cols] buffer, zero-padded below.</summary>
    public HostTensor RowChunk(HostTensor t, int start, int count, int width)
    {
        int cols = t.Shape[1], es = t.DType.Size();
        var buffer = NewBuffer(t.DType, width, cols);
        new ReadOnlySpan<byte>((byte*)t.Data + (long)start * cols * es, count * cols * es).CopyTo(buffer.Bytes);
        return buffer.AsTensor();
    }

    /// <summary>Columns [start, start+count) of a [rows, cols] tensor into a [rows, width] buffer, zero-padded right.</summary>
    public HostTensor ColumnChunk(HostTensor t, int start, int count, int width)
    {
        int rows = t.Shape[0], cols = t.Shape[1], es = t.DType.Size();
        var buffer = NewBuffer(t.DType, rows, width);
        for (int r = 0; r < rows; r++)
            new ReadOnlySpan<byte>((byte*)t.Data + ((long)r * cols + start) * es, count * es).CopyTo(buffer.Bytes.Slice(r * width * es));
        return buffer.AsTensor();
    }

    /// <summary>Slice <paramref name="index"/> of a stacked [n, rows, cols] tensor, rows [rowStart, rowStart+rowCount): a view, no copy.</summary>
    public static HostTensor SubTensor(HostTensor t, int index, int rowStart, int rowCount)
    {
        int rows = t.Shape[1], cols = t.Shape[2];
        long offset = ((long)index * rows + rowStart) * cols * t.DType.Size();
        return new HostTensor(t.DType, [rowCount, cols], (byte*)t.Data + offset);
    }

    /// <summary>F32 values stored as <paramref name="dtype"/> in a host buffer (rounding to nearest even for BF16).</summary>
    public HostTensor FromF32(ReadOnlySpan<float> values, DType dtype, int[] shape)
    {
        var buffer = NewBuffer(dtype, shape);
        switch (dtype)
        {
            case DType.F32:
                MemoryMarshal.AsBytes(values).CopyTo(buffer.Bytes);
                break;
            case DType.BF16:
                var b = MemoryMarshal.Cast<byte, ushort>(buffer.Bytes);
                for (int i = 0; i < values.Length; i++) b[i] = Bf16.FromF32(values[i]);
                break;
            case DType.F16:
                var h = MemoryMarshal.Cast<byte, Half>(buffer.Bytes);
                for (int i = 0; i < values.Length; i++) h[i] = (Half)values[i];
                break;
            default:
                throw new ArgumentException($"Cannot store F32 values as {dtype}.");
        }
        return buffer.AsTensor();
    }

    public static void ToF32(HostTensor t, Span<float> dst)
    {
        int n = checked((int)t.ElementCount);
        switch (t.DType)
        {
            case DType.F32:
                new ReadOnlySpan<float>((void*)t.Data, n).CopyTo(dst);
                break;
            case DType.BF16:
                var b = new ReadOnlySpan<ushort>((void*)t.Data, n);
                for (int i = 0; i < n; i++) dst[i] = BitConverter.Int32BitsToSingle(b[i] << 16);
                break;
            case DType.F16:
                var h = new ReadOnlySpan<Half>((void*)t.Data, n);
                for (int i = 0; i < n; i++) dst[i] = (float)h[i];
                break;
            default:
                throw new ArgumentException($"Cannot widen {t} to F32.");
        }
    }

    private HostBuffer NewBuffer(DType dtype, params int[] shape)
    {
        var b = new HostBuffer(dtype, shape);
        _buffers.Add(b);
        return b;
    }

    public Tensor Keep(Tensor t)
    {
        _tensors.Add(t);
        return t;
    }

    public void Dispose()
    {
        foreach (var t in _tensors) t.Dispose();
        foreach (var b in _buffers) b.Dispose();
        _tensors.Clear();
        _buffers.Clear();
    }
}
