using System.Runtime.InteropServices;

namespace Fse.Runtime.Checkpoints;

/// <summary>
/// A tensor inside a memory-mapped safetensors file: its name, dtype, shape and bytes, read in place (zero copy).
/// Valid while the file (or the <see cref="Checkpoint"/> holding it) is open.
/// </summary>
public readonly unsafe struct TensorView
{
    private readonly SafetensorsFile _file;
    private readonly SafetensorsEntry _entry;

    internal TensorView(SafetensorsFile file, SafetensorsEntry entry)
    {
        _file = file;
        _entry = entry;
    }

    public string Name => _entry.Name;

    public SafetensorsDType DType => _entry.DType;

    public TensorShape Shape => _entry.Shape;

    public long ElementCount => _entry.Shape.ElementCount;

    public long ByteLength => _entry.ByteLength;

    /// <summary>Offset of the first byte in the file (data start + the header's begin offset).</summary>
    public long FileOffset => _file.DataStart + _entry.Begin;

    /// <summary>The file that holds the tensor.</summary>
    public string FilePath => _file.Path;

    /// <summary>Address of the first byte in the mapping; valid for <see cref="ByteLength"/> bytes while the file is open.</summary>
    public byte* Pointer => _file.BasePointer + FileOffset;

    /// <summary>The raw little-endian bytes. Tensors over 2 GB cannot be one span: use <see cref="Pointer"/> or <see cref="AsSpan{T}"/>.</summary>
    public ReadOnlySpan<byte> Bytes
    {
        get
        {
            if (ByteLength > int.MaxValue)
                throw new InvalidOperationException($"Tensor '{Name}' is {ByteLength} bytes, too large for one byte span; use Pointer or AsSpan<T>().");
            return new ReadOnlySpan<byte>(Pointer, (int)ByteLength);
        }
    }

    /// <summary>
    /// The elements as <typeparamref name="T"/> (<c>float</c> for F32, <see cref="Half"/> for F16, <c>ushort</c> for BF16 bits).
    /// </summary>
    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged
    {
        if (sizeof(T) != DType.BytesPerElement())
            throw new InvalidOperationException($"Tensor '{Name}' is {DType.HeaderName()} ({DType.BytesPerElement()} bytes per element); {typeof(T).Name} has {sizeof(T)}.");
        if (ElementCount > int.MaxValue)
            throw new InvalidOperationException($"Tensor '{Name}' has {ElementCount} elements, more than one span can hold.");
        return new ReadOnlySpan<T>(Pointer, (int)ElementCount);
    }

    /// <summary>Converts elements [<paramref name="start"/>, start + destination.Length) to float32.</summary>
    public void CopyToFloat32(Span<float> destination, long start = 0)
    {
        if (start < 0 || start + destination.Length > ElementCount)
            throw new ArgumentOutOfRangeException(nameof(start), $"Elements [{start}, {start + destination.Length}) lie outside tensor '{Name}' ({ElementCount} elements).");
        int size = DType.BytesPerElement();
        byte* p = Pointer + start * size;
        const int chunk = 1 << 28; // elements per conversion, so the byte span stays under 2 GB
        for (int done = 0; done < destination.Length; done += chunk)
        {
            int n = Math.Min(chunk, destination.Length - done);
            DTypeConversion.ToFloat32(new ReadOnlySpan<byte>(p + (long)done * size, n * size), DType, destination.Slice(done, n));
        }
    }

    /// <summary>All elements as a new float32 array (a copy; for small tensors and tests).</summary>
    public float[] ToFloat32Array()
    {
        if (ElementCount > Array.MaxLength) throw new InvalidOperationException($"Tensor '{Name}' is too large for one array.");
        var result = new float[ElementCount];
        CopyToFloat32(result);
        return result;
    }

    public override string ToString() => _file is null ? "(none)" : $"{Name} {DType.HeaderName()} {Shape}";
}
