using System.Diagnostics;
using Fse.Runtime.Checkpoints;

namespace Fse.Runtime.Presets;

/// <summary>Progress of <see cref="PresetWriter.Write"/>: bytes of tensor data written so far out of the total.</summary>
public readonly record struct PresetWriteProgress(long BytesWritten, long TotalBytes)
{
    public double Fraction => TotalBytes == 0 ? 1 : (double)BytesWritten / TotalBytes;
}

/// <summary>What <see cref="PresetWriter.Write"/> wrote.</summary>
public sealed record PresetWriteResult(
    string Directory, string Preset, ModelConfig Config, IReadOnlyList<string> Files, long Parameters, long Bytes, TimeSpan Elapsed)
{
    /// <summary>Tensor data written per second, in MB (10⁶ bytes).</summary>
    public double MegabytesPerSecond => Elapsed.TotalSeconds > 0 ? Bytes / 1e6 / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Writes a preset as a hub-layout checkpoint: <c>config.json</c> plus safetensors (sharded with an index above
/// the shard limit) with random weights from <see cref="RandomWeights"/>. Values depend only on (seed, tensor name,
/// element index), so the same seed gives byte-identical files whatever the thread count. Generation streams in chunks
/// across all cores; memory use is a few MB per core whatever the model size.
/// </summary>
public static class PresetWriter
{
    /// <summary>Elements generated per work item.</summary>
    internal const int ChunkElements = 1 << 20;

    /// <summary>
    /// Writes preset <paramref name="presetName"/> into <paramref name="directory"/> (created if needed). Old
    /// <c>model*.safetensors</c> files and the index there are replaced; on failure or cancellation the files this call
    /// wrote are removed.
    /// </summary>
    public static PresetWriteResult Write(string presetName, string directory, int? layers = null, int seed = 0, string? dtype = null,
        IProgress<PresetWriteProgress>? progress = null, CancellationToken cancellationToken = default,
        long maxShardBytes = CheckpointWriter.DefaultMaxShardBytes)
    {
        var preset = ModelPresets.Get(presetName);
        var configJson = preset.ConfigJson(layers, dtype);
        var config = ModelConfig.Parse(configJson, $"preset '{preset.Name}'");
        var tensorDType = SafetensorsDTypes.FromConfigName(config.DType);
        var manifest = TensorManifest.Expected(config);
        var entries = manifest.Select(t => new TensorEntry(t.Name, t.DType ?? tensorDType, t.Shape)).ToList();

        directory = Path.GetFullPath(directory);
        Directory.CreateDirectory(directory);
        RemoveOldWeights(directory);
        var clock = Stopwatch.StartNew();
        var written = new List<string>();
        try
        {
            var configPath = Path.Combine(directory, ModelConfig.FileName);
            written.Add(configPath);
            File.WriteAllText(configPath, configJson);
            using var writer = CheckpointWriter.Create(directory, entries, maxShardBytes);
            written.AddRange(writer.Files);
            Generate(writer, manifest, entries, config, seed, progress, cancellationToken);
            writer.Complete();
            clock.Stop();
            return new PresetWriteResult(directory, preset.Name, config, written, manifest.Sum(t => t.ElementCount), writer.TotalBytes, clock.Elapsed);
        }
        catch
        {
            foreach (var f in written) File.Delete(f);
            throw;
        }
    }

    private static void Generate(CheckpointWriter writer, IReadOnlyList<ExpectedTensor> manifest, List<TensorEntry> entries, ModelConfig config, int seed,
        IProgress<PresetWriteProgress>? progress, CancellationToken cancellationToken)
    {
        var work = new List<(int Tensor, long Start, int Count)>();
        for (int t = 0; t < manifest.Count; t++)
            for (long s = 0; s < manifest[t].ElementCount; s += ChunkElements)
                work.Add((t, s, (int)Math.Min(ChunkElements, manifest[t].ElementCount - s)));
        var inits = manifest.Select(t => WeightInit.For(t, config)).ToArray();
        var keys = manifest.Select(t => RandomWeights.TensorKey(seed, t.Name)).ToArray();
        var sizes = entries.Select(e => e.DType.BytesPerElement()).ToArray();
        long total = writer.TotalBytes, done = 0;
        progress?.Report(new PresetWriteProgress(0, total));
        var options = new ParallelOptions { CancellationToken = cancellationToken };
        Parallel.For(0, work.Count, options, () => new float[ChunkElements], (i, _, buffer) =>
        {
            var (t, start, count) = work[i];
            var values = buffer.AsSpan(0, count);
            RandomWeights.Fill(inits[t], keys[t], start, values);
            writer.WriteFloat32(manifest[t].Name, start, values);
            long now = Interlocked.Add(ref done, (long)count * sizes[t]);
            progress?.Report(new PresetWriteProgress(now, total));
            return buffer;
        }, _ => { });
    }

    /// <summary>Deletes weights a previous write left, so the directory never mixes two checkpoints.</summary>
    private static void RemoveOldWeights(string directory)
    {
        foreach (var f in Directory.EnumerateFiles(directory, "model*.safetensors")) File.Delete(f);
        File.Delete(Path.Combine(directory, Checkpoint.IndexFileName));
    }
}
