using System.Text.Json;

namespace Fse.Runtime.Checkpoints;

/// <summary>
/// The safetensors files of a checkpoint directory, opened memory-mapped, with lookup by tensor name. A directory holds
/// <c>model.safetensors.index.json</c> (sharded: its weight_map names the files), or <c>model.safetensors</c>, or
/// several <c>*.safetensors</c> without an index. Dispose releases every map.
/// </summary>
public sealed class Checkpoint : IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, SafetensorsFile> _byTensor;

    private Checkpoint(string directory, List<SafetensorsFile> files, Dictionary<string, SafetensorsFile> byTensor)
    {
        Directory = directory;
        _files = files;
        _byTensor = byTensor;
    }

    public string Directory { get; }

    public IReadOnlyList<SafetensorsFile> Files => _files;

    public int Count => _byTensor.Count;

    public IEnumerable<string> TensorNames => _byTensor.Keys;

    public bool Contains(string name) => _byTensor.ContainsKey(name);

    public bool TryGet(string name, out TensorView view)
    {
        if (_byTensor.TryGetValue(name, out var file)) return file.TryGet(name, out view);
        view = default;
        return false;
    }

    /// <summary>The named tensor, or a <see cref="CheckpointErrorKind.TensorMissing"/> error naming it and the directory.</summary>
    public TensorView Get(string name) => TryGet(name, out var v) ? v
        : throw new CheckpointException(CheckpointErrorKind.TensorMissing, Directory, $"Checkpoint '{Directory}' has no tensor '{name}'.", name);

    public static Checkpoint Open(string directory)
    {
        directory = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(directory))
            throw new CheckpointException(CheckpointErrorKind.DirectoryNotFound, directory, $"Model directory '{directory}' does not exist.");
        var index = Path.Combine(directory, IndexFileName);
        var single = Path.Combine(directory, SingleFileName);
        if (File.Exists(index)) return OpenIndexed(directory, index);
        if (File.Exists(single)) return OpenFiles(directory, [single]);
        var all = System.IO.Directory.GetFiles(directory, "*.safetensors").Order(StringComparer.Ordinal).ToList();
        if (all.Count == 0)
            throw new CheckpointException(CheckpointErrorKind.FileNotFound, directory,
                $"'{directory}' holds no {IndexFileName}, no {SingleFileName} and no other *.safetensors file.");
        return OpenFiles(directory, all);
    }

    private static Checkpoint OpenIndexed(string directory, string index)
    {
        var weightMap = ReadWeightMap(index);
        var shardNames = weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        foreach (var shard in shardNames)
        {
            var shardPath = Path.Combine(directory, shard);
            if (!File.Exists(shardPath))
                throw new CheckpointException(CheckpointErrorKind.FileNotFound, shardPath,
                    $"'{index}' maps tensors to shard '{shard}', which is missing from '{directory}'.", shard);
        }
        var checkpoint = OpenFiles(directory, shardNames.Select(s => Path.Combine(directory, s)).ToList());
        try
        {
            foreach (var (tensor, shard) in weightMap)
            {
                var shardPath = Path.Combine(directory, shard);
                if (!checkpoint._byTensor.TryGetValue(tensor, out var file) || file.Path != shardPath)
                    throw new CheckpointException(CheckpointErrorKind.TensorMissing, index,
                        $"'{index}' maps tensor '{tensor}' to '{shard}', but that file does not hold it.", tensor);
            }
            return checkpoint;
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    private static Dictionary<string, string> ReadWeightMap(string index)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(index));
        }
        catch (JsonException e)
        {
            throw new CheckpointException(CheckpointErrorKind.MalformedJson, index,
                $"'{index}' is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine}): {e.Message}", inner: e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new CheckpointException(CheckpointErrorKind.MissingKey, index, $"'{index}' has no object 'weight_map'.", "weight_map");
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                var file = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : null;
                if (string.IsNullOrEmpty(file) || Path.GetFileName(file) != file)
                    throw new CheckpointException(CheckpointErrorKind.InvalidValue, index,
                        $"'{index}': weight_map entry '{entry.Name}' must name a file in the checkpoint directory, not {entry.Value.GetRawText()}.", "weight_map." + entry.Name);
                result[entry.Name] = file;
            }
            return result;
        }
    }

    private static Checkpoint OpenFiles(string directory, List<string> paths)
    {
        var files = new List<SafetensorsFile>();
        var byTensor = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        try
        {
            foreach (var path in paths)
            {
                var file = SafetensorsFile.Open(path);
                files.Add(file);
                foreach (var name in file.TensorNames)
                {
                    if (byTensor.TryGetValue(name, out var other))
                        throw new CheckpointException(CheckpointErrorKind.DuplicateTensor, directory,
                            $"Checkpoint '{directory}': tensor '{name}' is in both '{Path.GetFileName(other.Path)}' and '{Path.GetFileName(file.Path)}'.", name);
                    byTensor.Add(name, file);
                }
            }
            return new Checkpoint(directory, files, byTensor);
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
    }
}
