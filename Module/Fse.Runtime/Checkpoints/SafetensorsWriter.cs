using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace Fse.Runtime.Checkpoints;

/// <summary>A tensor to be written: name, element type and shape.</summary>
public sealed record TensorEntry(string Name, SafetensorsDType DType, TensorShape Shape)
{
    public long ByteLength => Shape.ElementCount * DType.BytesPerElement();
}

/// <summary>
/// Writes one safetensors file without holding it in memory: the header (sizes are known up front, padded with spaces
/// to 8-byte alignment as safetensors and HF do) goes first, then each tensor's bytes are written at their place, in any
/// order and from any thread. <see cref="Complete"/> checks that every tensor was written in full.
/// </summary>
public sealed class SafetensorsWriter : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly Dictionary<string, int> _index;
    private readonly long[] _offsets;   // absolute file offsets of each tensor's first byte
    private readonly long[] _written;
    private bool _completed;

    private SafetensorsWriter(string path, SafeFileHandle handle, IReadOnlyList<TensorEntry> tensors, long[] offsets, long length)
    {
        Path = path;
        _handle = handle;
        Tensors = tensors;
        _offsets = offsets;
        _written = new long[tensors.Count];
        Length = length;
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tensors.Count; i++) _index.Add(tensors[i].Name, i);
    }

    public string Path { get; }

    public IReadOnlyList<TensorEntry> Tensors { get; }

    /// <summary>Final file size.</summary>
    public long Length { get; }

    /// <summary>Creates (or replaces) the file, writes its header and reserves room for the data.</summary>
    public static SafetensorsWriter Create(string path, IReadOnlyList<TensorEntry> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            if (t.Name == SafetensorsHeader.MetadataKey || !names.Add(t.Name))
                throw new ArgumentException($"Tensor name '{t.Name}' is reserved or given twice.", nameof(tensors));
        }
        var header = BuildHeader(tensors, metadata, out var relative);
        long dataStart = 8 + header.Length;
        long length = dataStart + (tensors.Count == 0 ? 0 : relative[^1] + tensors[^1].ByteLength);
        var offsets = relative.Select(r => dataStart + r).ToArray();

        path = System.IO.Path.GetFullPath(path);
        var handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, FileOptions.None, 0);
        try
        {
            var prefix = new byte[8 + header.Length];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            header.CopyTo(prefix, 8);
            RandomAccess.Write(handle, prefix, 0);
            RandomAccess.SetLength(handle, length);
            return new SafetensorsWriter(path, handle, tensors, offsets, length);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The header JSON (compact, <c>__metadata__</c> first, tensors in the given order), padded with spaces to a multiple of 8 bytes.</summary>
    internal static byte[] BuildHeader(IReadOnlyList<TensorEntry> tensors, IReadOnlyDictionary<string, string>? metadata, out long[] relativeOffsets)
    {
        relativeOffsets = new long[tensors.Count];
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafetensorsHeader.MetadataKey);
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            for (int i = 0; i < tensors.Count; i++)
            {
                var t = tensors[i];
                relativeOffsets[i] = offset;
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.DType.HeaderName());
                json.WriteStartArray("shape");
                foreach (var d in t.Shape.Dims) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + t.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += t.ByteLength;
            }
            json.WriteEndObject();
        }
        int padding = (int)((8 - buffer.Length % 8) % 8);
        for (int i = 0; i < padding; i++) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    /// <summary>Writes <paramref name="bytes"/> into tensor <paramref name="name"/> starting at byte <paramref name="byteOffset"/> of the tensor. Thread-safe.</summary>
    public void Write(string name, long byteOffset, ReadOnlySpan<byte> bytes)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        if (_completed) throw new InvalidOperationException($"'{Path}' is already complete.");
        int i = IndexOf(name);
        var t = Tensors[i];
        if (byteOffset < 0 || byteOffset + bytes.Length > t.ByteLength)
            throw new ArgumentOutOfRangeException(nameof(byteOffset), $"Bytes [{byteOffset}, {byteOffset + bytes.Length}) lie outside tensor '{name}' ({t.ByteLength} bytes).");
        RandomAccess.Write(_handle, bytes, _offsets[i] + byteOffset);
        Interlocked.Add(ref _written[i], bytes.Length);
    }

    /// <summary>Converts float32 values to the tensor's dtype and writes them at element <paramref name="elementOffset"/>. Thread-safe.</summary>
    public void WriteFloat32(string name, long elementOffset, ReadOnlySpan<float> values)
    {
        var dtype = Tensors[IndexOf(name)].DType;
        int size = dtype.BytesPerElement();
        const int chunk = 1 << 20;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(values.Length, chunk) * size);
        try
        {
            for (int done = 0; done < values.Length; done += chunk)
            {
                int n = Math.Min(chunk, values.Length - done);
                var bytes = buffer.AsSpan(0, n * size);
                DTypeConversion.FromFloat32(values.Slice(done, n), dtype, bytes);
                Write(name, (elementOffset + done) * size, bytes);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Checks that every tensor was written in full, flushes and closes the file.</summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        for (int i = 0; i < Tensors.Count; i++)
        {
            long w = Interlocked.Read(ref _written[i]);
            if (w != Tensors[i].ByteLength)
                throw new InvalidOperationException($"'{Path}': tensor '{Tensors[i].Name}' got {w} of its {Tensors[i].ByteLength} bytes.");
        }
        RandomAccess.FlushToDisk(_handle);
        _completed = true;
        _handle.Dispose();
    }

    private int IndexOf(string name) =>
        _index.TryGetValue(name, out var i) ? i : throw new ArgumentException($"'{Path}' has no tensor '{name}' in its header.", nameof(name));

    public void Dispose() => _handle.Dispose();

    public override string ToString() => $"{Path} ({Tensors.Count} tensors, {Length} bytes)";
}
