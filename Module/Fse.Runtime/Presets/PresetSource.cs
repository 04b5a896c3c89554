using Fse.Kernels;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Weights;

namespace Fse.Runtime.Presets;

/// <summary>
/// A preset's random-weight checkpoint without files: the values and dtype <see cref="PresetWriter"/> writes for the same
/// preset, layer count, seed and dtype. Weight matrices (zero-mean normal draws) are offered as <see cref="RandomMatrix"/>
/// descriptions through <see cref="TryGetWeight"/>, so a device backend draws them in its own memory and they never exist
/// in host memory; <see cref="TryGet"/> generates a tensor in native memory when it is first asked for (norms, biases and
/// other small tensors, or any tensor for callers that want bytes) and keeps it until the source is disposed (a backend
/// may use it in place). Thread-safe.
/// </summary>
public sealed class PresetSource : ITensorSource, IDisposable
{
    private readonly Dictionary<string, ExpectedTensor> _manifest;
    private readonly Dictionary<string, HostBuffer> _made = new(StringComparer.Ordinal);
    private readonly SafetensorsDType _dtype;
    private readonly int _seed;
    private readonly object _gate = new();
    private bool _disposed;

    /// <summary>A source for preset <paramref name="presetName"/> (see <see cref="ModelPresets"/>).</summary>
    /// <exception cref="ArgumentException">No such preset, or an unknown dtype.</exception>
    public PresetSource(string presetName, int? layers = null, int seed = 0, string? dtype = null)
    {
        Preset = ModelPresets.Get(presetName);
        Config = Preset.Config(layers, dtype);
        _dtype = SafetensorsDTypes.FromConfigName(Config.DType);
        _seed = seed;
        _manifest = TensorManifest.Expected(Config).ToDictionary(t => t.Name, StringComparer.Ordinal);
        Location = $"preset '{Preset.Name}' ({Config.NumLayers} layers, seed {seed}, {Config.DType}, in memory)";
    }

    public ModelPreset Preset { get; }

    public ModelConfig Config { get; }

    public string Location { get; }

    /// <summary>Bytes of the tensors generated so far.</summary>
    public long BytesGenerated
    {
        get
        {
            lock (_gate) return _made.Values.Sum(b => b.ByteLength);
        }
    }

    public bool TryGetWeight(string name, out WeightTensor tensor)
    {
        tensor = default;
        if (!_manifest.TryGetValue(name, out var expected)) return false;
        var init = WeightInit.For(expected, Config);
        var dtype = ToKernel(expected.DType ?? _dtype);
        if (expected.Shape.Rank < 2 || init.Distribution != WeightDistribution.Normal || init.A != 0)
        {
            bool found = TryGet(name, out var host);
            tensor = host;
            return found;
        }
        var shape = expected.Shape.Dims.Select(d => checked((int)d)).ToArray();
        int cols = shape[^1], rows = checked((int)(expected.ElementCount / cols));
        tensor = new WeightTensor(RandomMatrix.Whole(dtype, rows, cols, RandomWeights.TensorKey(_seed, name), CounterNormal.Scale(init.B)), shape);
        return true;
    }

    public bool TryGet(string name, out HostTensor tensor)
    {
        tensor = default;
        if (!_manifest.TryGetValue(name, out var expected)) return false;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_made.TryGetValue(name, out var buffer))
            {
                buffer = Generate(expected);
                _made.Add(name, buffer);
            }
            tensor = buffer.AsTensor();
            return true;
        }
    }

    private HostBuffer Generate(ExpectedTensor t)
    {
        var dtype = t.DType ?? _dtype;
        var shape = t.Shape.Dims.Select(d => checked((int)d)).ToArray();
        var buffer = new HostBuffer(ToKernel(dtype), shape);
        try
        {
            var init = WeightInit.For(t, Config);
            ulong key = RandomWeights.TensorKey(_seed, t.Name);
            long count = t.ElementCount;
            int chunks = (int)((count + PresetWriter.ChunkElements - 1) / PresetWriter.ChunkElements);
            int size = dtype.BytesPerElement();
            Parallel.For(0, chunks, () => new float[PresetWriter.ChunkElements], (c, _, values) =>
            {
                long start = (long)c * PresetWriter.ChunkElements;
                int n = (int)Math.Min(PresetWriter.ChunkElements, count - start);
                var span = values.AsSpan(0, n);
                RandomWeights.Fill(init, key, start, span);
                DTypeConversion.FromFloat32(span, dtype, buffer.Bytes.Slice(checked((int)(start * size)), n * size));
                return values;
            }, _ => { });
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    private static DType ToKernel(SafetensorsDType t) => t switch
    {
        SafetensorsDType.F32 => DType.F32,
        SafetensorsDType.F16 => DType.F16,
        SafetensorsDType.BF16 => DType.BF16,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var b in _made.Values) b.Dispose();
            _made.Clear();
        }
    }
}
