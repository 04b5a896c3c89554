using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Fse.Runtime.Checkpoints;
using static Fse.Runtime.Tests.Checkpoints.SafetensorsTestData;

namespace Fse.Runtime.Tests.Checkpoints;

public class SafetensorsRoundTripTests
{
    private static readonly TensorShape Matrix = new(37, 19);

    [Theory]
    [InlineData(SafetensorsDType.F32)]
    [InlineData(SafetensorsDType.F16)]
    [InlineData(SafetensorsDType.BF16)]
    public void WrittenTensorsReadBackWithNameDtypeShapeAndValues(SafetensorsDType dtype)
    {
        using var dir = new TempDirectory();
        var entries = new List<TensorEntry>
        {
            new("model.layers.0.mlp.gate.weight", dtype, Matrix),
            new("model.norm.weight", dtype, new TensorShape(19)),
            new("scalar", dtype, TensorShape.Scalar),
            new("odd.vector", dtype, new TensorShape(5)),
        };
        var path = dir.File("model.safetensors");
        var written = WriteRandom(path, entries, seed: 11, new Dictionary<string, string> { ["format"] = "pt" });

        using var file = SafetensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(entries.Select(e => e.Name), file.TensorNames);
        foreach (var e in entries)
        {
            Assert.True(file.TryGet(e.Name, out var view));
            Assert.Equal(e.DType, view.DType);
            Assert.Equal(e.Shape, view.Shape);
            Assert.Equal(e.ByteLength, view.ByteLength);
            Assert.Equal(path, view.FilePath);
            var expected = written[e.Name].Select(v => Quantize(v, dtype)).ToArray();
            Assert.Equal(expected, view.ToFloat32Array());
        }
        Assert.False(file.TryGet("model.missing", out _));
    }

    [Fact]
    public void HeaderIsPaddedWithSpacesToEightBytesAndDataFollowsIt()
    {
        using var dir = new TempDirectory();
        var path = dir.File("a.safetensors");
        var entries = new List<TensorEntry> { new("w", SafetensorsDType.F32, new TensorShape(3)), new("bb", SafetensorsDType.BF16, new TensorShape(2, 3)) };
        WriteRandom(path, entries, seed: 3);
        var bytes = File.ReadAllBytes(path);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.StartsWith("{", header);
        Assert.Equal(header.TrimEnd(' ').Length, header.TrimEnd().Length);
        using var doc = JsonDocument.Parse(header.TrimEnd());
        Assert.Equal("[0,12]", doc.RootElement.GetProperty("w").GetProperty("data_offsets").GetRawText());
        Assert.Equal("[12,24]", doc.RootElement.GetProperty("bb").GetProperty("data_offsets").GetRawText());
        Assert.Equal(8 + n + 24, bytes.Length);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(8 + n, file.DataStart);
        Assert.Equal(8 + n + 12, file["bb"].FileOffset);
    }

    [Fact]
    public unsafe void ViewsGiveZeroCopyTypedSpansAndPointers()
    {
        using var dir = new TempDirectory();
        var path = dir.File("t.safetensors");
        var entries = new List<TensorEntry>
        {
            new("f32", SafetensorsDType.F32, Matrix),
            new("f16", SafetensorsDType.F16, Matrix),
            new("bf16", SafetensorsDType.BF16, Matrix),
        };
        var written = WriteRandom(path, entries, seed: 5);
        using var file = SafetensorsFile.Open(path);

        var f32 = file["f32"];
        Assert.Equal(written["f32"], f32.AsSpan<float>().ToArray());
        Assert.Equal(written["f32"][7], *(float*)(f32.Pointer + 7 * 4));
        fixed (byte* p = f32.Bytes) Assert.True(p == f32.Pointer); // the span is the mapping, not a copy

        var f16 = file["f16"].AsSpan<Half>();
        Assert.Equal((float)(Half)written["f16"][100], (float)f16[100]);
        var bf16 = file["bf16"].AsSpan<ushort>();
        Assert.Equal(DTypeConversion.Float32ToBFloat16(written["bf16"][200]), bf16[200]);
        Assert.Throws<InvalidOperationException>(() => file["bf16"].AsSpan<float>());
    }

    [Fact]
    public void CopyToFloat32ConvertsAnyElementRange()
    {
        using var dir = new TempDirectory();
        var path = dir.File("t.safetensors");
        var written = WriteRandom(path, [new TensorEntry("w", SafetensorsDType.BF16, Matrix)], seed: 9);
        using var file = SafetensorsFile.Open(path);
        var part = new float[50];
        file["w"].CopyToFloat32(part, start: 301);
        Assert.Equal(written["w"].Skip(301).Take(50).Select(v => Quantize(v, SafetensorsDType.BF16)), part);
        Assert.Throws<ArgumentOutOfRangeException>(() => file["w"].CopyToFloat32(new float[50], start: Matrix.ElementCount - 10));
    }

    [Fact]
    public void WriterRejectsIncompleteAndOutOfRangeWrites()
    {
        using var dir = new TempDirectory();
        var path = dir.File("t.safetensors");
        using var writer = SafetensorsWriter.Create(path, [new TensorEntry("a", SafetensorsDType.F32, new TensorShape(4)), new TensorEntry("b", SafetensorsDType.F16, new TensorShape(4))]);
        writer.WriteFloat32("a", 0, RandomFloats(4, 1));
        writer.WriteFloat32("b", 0, RandomFloats(2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.WriteFloat32("b", 3, RandomFloats(2, 3)));
        Assert.Throws<ArgumentException>(() => writer.WriteFloat32("c", 0, RandomFloats(1, 4)));
        var e = Assert.Throws<InvalidOperationException>(writer.Complete);
        Assert.Contains("'b'", e.Message);
        writer.WriteFloat32("b", 2, RandomFloats(2, 5));
        writer.Complete();
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(2, file.Count);
    }

    [Fact]
    public void ViewsOfADisposedFileRefuseAccess()
    {
        using var dir = new TempDirectory();
        var path = dir.File("t.safetensors");
        WriteRandom(path, [new TensorEntry("w", SafetensorsDType.F32, new TensorShape(8))], seed: 1);
        var file = SafetensorsFile.Open(path);
        var view = file["w"];
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => view.ToFloat32Array());
        file.Dispose(); // twice is harmless
    }
}
