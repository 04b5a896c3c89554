using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;

namespace Fse.Runtime.Checkpoints;

/// <summary>
/// One safetensors file, memory-mapped read-only: the header is parsed and validated on open, tensor data is never
/// copied into managed memory. One view spans the whole file, so files larger than 2 GB are addressed with long
/// offsets from one base pointer. Dispose releases the map; views taken from it must not be used afterwards.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly Dictionary<string, SafetensorsEntry> _entries;
    private readonly List<SafetensorsEntry> _ordered;
    private byte* _base;

    private SafetensorsFile(string path, long length, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePointer)
    {
        Path = path;
        Length = length;
        _map = map;
        _view = view;
        _base = basePointer;
        _entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
        _ordered = [];
        Metadata = new Dictionary<string, string>();
    }

    public string Path { get; }

    /// <summary>File size in bytes.</summary>
    public long Length { get; }

    /// <summary>File offset of the data section: 8 + the header length.</summary>
    public long DataStart { get; private set; }

    /// <summary>The header's <c>__metadata__</c> (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; private set; }

    public int Count => _ordered.Count;

    /// <summary>Tensor names in data order.</summary>
    public IEnumerable<string> TensorNames => _ordered.Select(e => e.Name);

    /// <summary>Every tensor, in data order.</summary>
    public IEnumerable<TensorView> Tensors => _ordered.Select(e => new TensorView(this, e));

    public bool Contains(string name) => _entries.ContainsKey(name);

    public bool TryGet(string name, out TensorView view)
    {
        if (_entries.TryGetValue(name, out var e))
        {
            view = new TensorView(this, e);
            return true;
        }
        view = default;
        return false;
    }

    /// <summary>The named tensor; a <see cref="CheckpointErrorKind.TensorMissing"/> error names the file when it is absent.</summary>
    public TensorView this[string name] => TryGet(name, out var v) ? v
        : throw new CheckpointException(CheckpointErrorKind.TensorMissing, Path, $"'{Path}' holds no tensor '{name}'.", name);

    internal byte* BasePointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_base == null, this);
            return _base;
        }
    }

    public static SafetensorsFile Open(string path)
    {
        path = System.IO.Path.GetFullPath(path);
        var info = new FileInfo(path);
        if (!info.Exists)
            throw new CheckpointException(CheckpointErrorKind.FileNotFound, path, $"Safetensors file '{path}' does not exist.");
        long length = info.Length;
        if (length < 8)
            throw SafetensorsHeader.Malformed(path, $"it is {length} bytes long, shorter than the 8-byte header length");

        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        SafetensorsFile? file = null;
        try
        {
            map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            file = new SafetensorsFile(path, length, map, view, p + view.PointerOffset);
            file.ReadHeader();
            return file;
        }
        catch
        {
            if (file is not null) file.Dispose();
            else
            {
                view?.Dispose();
                map?.Dispose();
            }
            throw;
        }
    }

    private void ReadHeader()
    {
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(_base, 8));
        if (headerLength > (ulong)(Length - 8))
            throw SafetensorsHeader.Malformed(Path,
                $"its header length {headerLength} runs past the end of the file ({Length} bytes); not a safetensors file, or truncated");
        if (headerLength > SafetensorsHeader.MaxHeaderBytes)
            throw SafetensorsHeader.Malformed(Path, $"its header length {headerLength} exceeds the {SafetensorsHeader.MaxHeaderBytes}-byte limit");
        DataStart = 8 + (long)headerLength;
        var (entries, metadata) = SafetensorsHeader.Parse(new ReadOnlySpan<byte>(_base + 8, (int)headerLength), Length - DataStart, Path);
        entries.Sort((a, b) => a.Begin.CompareTo(b.Begin));
        foreach (var e in entries)
        {
            _entries.Add(e.Name, e);
            _ordered.Add(e);
        }
        Metadata = metadata;
    }

    public void Dispose()
    {
        if (_base == null) return;
        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }

    public override string ToString() => $"{Path} ({Count} tensors)";
}
