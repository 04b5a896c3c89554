using System.Text.Json;

namespace Fse.Runtime.Checkpoints;

/// <summary>
/// Writes a checkpoint's tensors as <c>model.safetensors</c>, or, when they exceed the shard size, as
/// <c>model-00001-of-0000N.safetensors</c> shards plus <c>model.safetensors.index.json</c> in HF's layout
/// (<c>metadata.total_size</c>, <c>metadata.total_parameters</c>, <c>weight_map</c>). Shards are filled in tensor order the
/// way HF's <c>save_pretrained</c> splits them: a tensor that would overflow the current shard starts the next, a tensor
/// larger than the limit gets a shard of its own. Tensor data may be written in any order and from any thread.
/// </summary>
public sealed class CheckpointWriter : IDisposable
{
    /// <summary>The default shard limit (HF's <c>save_pretrained</c> used 5 GB for years; hub checkpoints ship 4-5 GB shards).</summary>
    public const long DefaultMaxShardBytes = 4L * 1000 * 1000 * 1000;

    private readonly List<SafetensorsWriter> _shards;
    private readonly Dictionary<string, SafetensorsWriter> _byTensor;
    private readonly IReadOnlyList<TensorEntry> _tensors;
    private bool _completed;

    private CheckpointWriter(string directory, IReadOnlyList<TensorEntry> tensors, List<SafetensorsWriter> shards)
    {
        Directory = directory;
        _tensors = tensors;
        _shards = shards;
        _byTensor = new Dictionary<string, SafetensorsWriter>(StringComparer.Ordinal);
        foreach (var s in shards)
            foreach (var t in s.Tensors) _byTensor.Add(t.Name, s);
    }

    public string Directory { get; }

    /// <summary>The safetensors files being written (full paths), and the index when sharded.</summary>
    public IReadOnlyList<string> Files =>
        [.. _shards.Select(s => s.Path), .. _shards.Count > 1 ? [Path.Combine(Directory, Checkpoint.IndexFileName)] : Array.Empty<string>()];

    public long TotalBytes => _tensors.Sum(t => t.ByteLength);

    /// <summary>Groups tensors (in order) into shards of at most <paramref name="maxShardBytes"/> each, HF style.</summary>
    public static IReadOnlyList<IReadOnlyList<TensorEntry>> PlanShards(IReadOnlyList<TensorEntry> tensors, long maxShardBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxShardBytes, 1);
        var shards = new List<List<TensorEntry>>();
        var current = new List<TensorEntry>();
        long size = 0;
        foreach (var t in tensors)
        {
            if (t.ByteLength > maxShardBytes)
            {
                shards.Add([t]);
                continue;
            }
            if (current.Count > 0 && size + t.ByteLength > maxShardBytes)
            {
                shards.Add(current);
                current = [];
                size = 0;
            }
            current.Add(t);
            size += t.ByteLength;
        }
        if (current.Count > 0 || shards.Count == 0) shards.Add(current);
        return shards;
    }

    /// <summary>Shard file names: <c>model.safetensors</c> alone, else <c>model-0000i-of-0000n.safetensors</c>.</summary>
    public static string ShardFileName(int index, int count) =>
        count == 1 ? Checkpoint.SingleFileName : $"model-{index + 1:D5}-of-{count:D5}.safetensors";

    public static CheckpointWriter Create(string directory, IReadOnlyList<TensorEntry> tensors, long maxShardBytes = DefaultMaxShardBytes,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(directory);
        metadata ??= new Dictionary<string, string> { ["format"] = "pt" };
        var plan = PlanShards(tensors, maxShardBytes);
        var shards = new List<SafetensorsWriter>();
        try
        {
            for (int i = 0; i < plan.Count; i++)
                shards.Add(SafetensorsWriter.Create(Path.Combine(directory, ShardFileName(i, plan.Count)), plan[i], metadata));
            return new CheckpointWriter(directory, tensors, shards);
        }
        catch
        {
            foreach (var s in shards) s.Dispose();
            throw;
        }
    }

    public void Write(string name, long byteOffset, ReadOnlySpan<byte> bytes) => Writer(name).Write(name, byteOffset, bytes);

    public void WriteFloat32(string name, long elementOffset, ReadOnlySpan<float> values) => Writer(name).WriteFloat32(name, elementOffset, values);

    /// <summary>Completes every shard (each checks it was written in full) and writes the index when sharded.</summary>
    public void Complete()
    {
        if (_completed) return;
        foreach (var s in _shards) s.Complete();
        if (_shards.Count > 1) WriteIndex();
        _completed = true;
    }

    private void WriteIndex()
    {
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var s in _shards)
            foreach (var t in s.Tensors) weightMap[t.Name] = Path.GetFileName(s.Path);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            json.WriteNumber("total_parameters", _tensors.Sum(t => t.Shape.ElementCount));
            json.WriteNumber("total_size", TotalBytes);
            json.WriteEndObject();
            json.WriteStartObject("weight_map");
            foreach (var (name, file) in weightMap) json.WriteString(name, file);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        File.WriteAllBytes(Path.Combine(Directory, Checkpoint.IndexFileName), buffer.ToArray());
    }

    private SafetensorsWriter Writer(string name) =>
        _byTensor.TryGetValue(name, out var w) ? w : throw new ArgumentException($"The checkpoint being written has no tensor '{name}'.", nameof(name));

    public void Dispose()
    {
        foreach (var s in _shards) s.Dispose();
    }
}
