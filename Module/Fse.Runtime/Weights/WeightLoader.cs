using System.Runtime.InteropServices;
using Fse.Kernels;
using Fse.Runtime.Checkpoints;

namespace Fse.Runtime.Weights;

/// <summary>
/// Moves named checkpoint tensors onto a backend with their shapes checked, and makes the derived tensors the
/// weight plan needs (row permutations, concatenations, FSE slots): for host bytes in host buffers it keeps alive, for
/// random preset matrices as <see cref="RandomMatrix"/> windows the backend draws in its own memory.
/// Big matrices keep their dtype; small vectors (norms, biases, DeltaNet parameters) become F32.
/// </summary>
public sealed unsafe class WeightLoader(ITensorSource source, IBackend backend) : IDisposable
{
    private readonly List<HostBuffer> _buffers = [];
    private readonly List<Tensor> _tensors = [];

    public ITensorSource Source => source;
    public IBackend Backend => backend;

    /// <summary>The tensor's bytes as stored, with its shape checked (small tensors that are converted on the host).</summary>
    public HostTensor Host(string name, params int[] shape)
    {
        if (!source.TryGet(name, out var t)) throw Missing(name);
        Check(name, t.Shape, t.DType, shape);
        return t;
    }

    /// <summary>A weight matrix as the source offers it (host bytes or a random draw), with its shape checked.</summary>
    public WeightTensor Weight(string name, params int[] shape)
    {
        if (!source.TryGetWeight(name, out var t)) throw Missing(name);
        Check(name, t.Shape, t.DType, shape);
        return t;
    }

    public bool Has(string name) => source.TryGetWeight(name, out _);

    /// <summary>A matrix in its checkpoint dtype.</summary>
    public Tensor Matrix(string name, params int[] shape) => Keep(backend.Upload(Weight(name, shape)));

    /// <summary>A small tensor converted to F32 (norm weights, biases, conv weights, DeltaNet parameters).</summary>
    public Tensor Vector(string name, params int[] shape) => UploadF32(Host(name, shape), shape[^1] == 1 && shape.Length > 1 ? [shape[0]] : shape);

    /// <summary>An F32 tensor with a new shape of the same element count.</summary>
    public Tensor UploadF32(HostTensor t, int[] shape)
    {
        var values = new float[t.ElementCount];
        ToF32(t, values);
        return Keep(backend.Upload(values, shape));
    }

    /// <summary>
    /// Blocks of rows stacked into one matrix of their common dtype and column count, each block a weight's rows in the
    /// order <see cref="RowBlock.Rows"/> gives, or all of them (stacked projections, the fused router gate). Host bytes
    /// are gathered straight into the one buffer the loader keeps; when every block is a draw the stack stays a draw.
    /// </summary>
    public Tensor StackRows(IReadOnlyList<RowBlock> blocks)
    {
        if (blocks.Count == 0) throw new ArgumentException("Nothing to stack.", nameof(blocks));
        if (blocks.All(b => b.Weight.Random is not null))
            return Keep(backend.Upload(RandomMatrix.ConcatRows(
                blocks.Select(b => b.Rows is null ? b.Weight.Random! : b.Weight.Random!.GatherRows(b.Rows)).ToArray())));
        var parts = blocks.Select(b => (Bytes: Bytes(b.Weight), b.Rows)).ToArray();
        int cols = parts[0].Bytes.Shape[^1];
        var dtype = parts[0].Bytes.DType;
        int rows = 0;
        foreach (var (t, r) in parts)
        {
            if (t.DType != dtype || t.Shape[^1] != cols) throw new ArgumentException("Stacked tensors must share dtype and columns.");
            rows += r?.Count ?? (int)(t.ElementCount / cols);
        }
        var buffer = NewBuffer(dtype, rows, cols);
        long rowBytes = (long)cols * dtype.Size(), at = 0;
        foreach (var (t, r) in parts)
        {
            if (r is null)
            {
                new ReadOnlySpan<byte>((void*)t.Data, checked((int)t.ByteLength)).CopyTo(buffer.Bytes.Slice((int)at));
                at += t.ByteLength;
                continue;
            }
            foreach (int row in r)
            {
                new ReadOnlySpan<byte>((byte*)t.Data + row * rowBytes, (int)rowBytes).CopyTo(buffer.Bytes.Slice((int)at));
                at += rowBytes;
            }
        }
        return Keep(backend.Upload(buffer.AsTensor()));
    }

    /// <summary>Rows [start, start+count) of a [rows, cols] tensor into a [width, cols] buffer, zero-padded below.</summary>
    public WeightTensor RowChunk(WeightTensor w, int start, int count, int width)
    {
        if (w.Random is { } r) return r.Window(start, count, 0, r.Cols, width, r.Cols);
        var t = w.Host;
        int cols = t.Shape[1], es = t.DType.Size();
        var buffer = NewBuffer(t.DType, width, cols);
        new ReadOnlySpan<byte>((byte*)t.Data + (long)start * cols * es, count * cols * es).CopyTo(buffer.Bytes);
        return buffer.AsTensor();
    }

    /// <summary>Columns [start, start+count) of a [rows, cols] tensor into a [rows, width] buffer, zero-padded right.</summary>
    public WeightTensor ColumnChunk(WeightTensor w, int start, int count, int width)
    {
        if (w.Random is { } m) return m.Window(0, m.Rows, start, count, m.Rows, width);
        var t = w.Host;
        int rows = t.Shape[0], cols = t.Shape[1], es = t.DType.Size();
        var buffer = NewBuffer(t.DType, rows, width);
        for (int r = 0; r < rows; r++)
            new ReadOnlySpan<byte>((byte*)t.Data + ((long)r * cols + start) * es, count * es).CopyTo(buffer.Bytes.Slice(r * width * es));
        return buffer.AsTensor();
    }

    /// <summary>Slice <paramref name="index"/> of a stacked [n, rows, cols] tensor, rows [rowStart, rowStart+rowCount): a view, no copy.</summary>
    public static WeightTensor SubTensor(WeightTensor w, int index, int rowStart, int rowCount)
    {
        int rows = w.Shape[1], cols = w.Shape[2];
        if (w.Random is { } r) return r.Window(index * rows + rowStart, rowCount, 0, cols, rowCount, cols);
        var t = w.Host;
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

    /// <summary>The weight's bytes in host memory: as stored, or a random draw written into a buffer the loader keeps.</summary>
    public HostTensor Bytes(WeightTensor w)
    {
        if (w.Random is not { } r) return w.Host;
        var buffer = NewBuffer(r.DType, w.Shape);
        r.WriteTo(buffer.Bytes);
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

    private CheckpointException Missing(string name) =>
        new(CheckpointErrorKind.TensorMissing, source.Location, $"'{source.Location}' has no tensor '{name}'.", name);

    private void Check(string name, int[] actual, DType dtype, int[] expected)
    {
        if (!actual.SequenceEqual(expected))
            throw new CheckpointException(CheckpointErrorKind.ShapeMismatch, source.Location,
                $"'{source.Location}': tensor '{name}' has shape [{string.Join(", ", actual)}], expected [{string.Join(", ", expected)}].", name);
        if (dtype == DType.I32)
            throw new CheckpointException(CheckpointErrorKind.UnsupportedDType, source.Location, $"'{source.Location}': tensor '{name}' is not a float tensor.", name);
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

/// <summary>One block of <see cref="WeightLoader.StackRows"/>: <paramref name="Weight"/>'s rows in the order <paramref name="Rows"/> gives, or all of them when null.</summary>
public readonly record struct RowBlock(WeightTensor Weight, IReadOnlyList<int>? Rows = null);
