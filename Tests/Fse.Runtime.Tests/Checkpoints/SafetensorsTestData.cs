using System.Buffers.Binary;
using System.Text;
using Fse.Runtime.Checkpoints;

namespace Fse.Runtime.Tests.Checkpoints;

/// <summary>Seeded random tensors and hand-made safetensors bytes for reader tests.</summary>
internal static class SafetensorsTestData
{
    public static float[] RandomFloats(int count, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return values;
    }

    /// <summary>A safetensors file from a raw header string (padded with spaces) and a data section.</summary>
    public static byte[] Craft(string header, byte[] data, bool pad = true)
    {
        var json = Encoding.UTF8.GetBytes(header);
        int padding = pad ? (8 - json.Length % 8) % 8 : 0;
        var bytes = new byte[8 + json.Length + padding + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)(json.Length + padding));
        json.CopyTo(bytes, 8);
        for (int i = 0; i < padding; i++) bytes[8 + json.Length + i] = (byte)' ';
        data.CopyTo(bytes, 8 + json.Length + padding);
        return bytes;
    }

    /// <summary>Writes tensors of random values with <see cref="SafetensorsWriter"/>, returning the float values written.</summary>
    public static Dictionary<string, float[]> WriteRandom(string path, IReadOnlyList<TensorEntry> entries, int seed,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var values = RandomValues(entries, seed);
        using var writer = SafetensorsWriter.Create(path, entries, metadata);
        foreach (var (name, v) in values) writer.WriteFloat32(name, 0, v);
        writer.Complete();
        return values;
    }

    /// <summary>Fresh random values for each entry (seeded per entry), in entry order.</summary>
    public static Dictionary<string, float[]> RandomValues(IReadOnlyList<TensorEntry> entries, int seed)
    {
        var values = new Dictionary<string, float[]>();
        for (int i = 0; i < entries.Count; i++) values[entries[i].Name] = RandomFloats((int)entries[i].Shape.ElementCount, seed + i);
        return values;
    }

    /// <summary>What a float becomes after a round trip through <paramref name="dtype"/>.</summary>
    public static float Quantize(float v, SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F32 => v,
        SafetensorsDType.F16 => (float)(Half)v,
        SafetensorsDType.BF16 => DTypeConversion.BFloat16ToFloat32(DTypeConversion.Float32ToBFloat16(v)),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };
}
