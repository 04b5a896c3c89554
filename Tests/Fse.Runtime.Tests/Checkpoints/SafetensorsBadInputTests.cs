using System.Buffers.Binary;
using Fse.Runtime.Checkpoints;
using static Fse.Runtime.Tests.Checkpoints.SafetensorsTestData;

namespace Fse.Runtime.Tests.Checkpoints;

public class SafetensorsBadInputTests
{
    private static CheckpointException OpenBad(byte[] bytes, out string path)
    {
        var dir = Directory.CreateTempSubdirectory("fse-bad-").FullName;
        var file = Path.Combine(dir, "bad.safetensors");
        path = file;
        File.WriteAllBytes(file, bytes);
        try
        {
            return Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(file));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static byte[] Data(int bytes) => [.. RandomFloats((bytes + 3) / 4, bytes).SelectMany(BitConverter.GetBytes).Take(bytes)];

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void FileShorterThanEightBytes(int length)
    {
        var e = OpenBad(Data(length), out var path);
        Assert.Equal(CheckpointErrorKind.MalformedHeader, e.Kind);
        Assert.Contains(path, e.Message);
        Assert.Contains("8-byte", e.Message);
    }

    [Fact]
    public void HeaderLengthPastTheEndOfTheFile()
    {
        var bytes = Craft("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", Data(8));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1_000_000);
        var e = OpenBad(bytes, out var path);
        Assert.Equal(CheckpointErrorKind.MalformedHeader, e.Kind);
        Assert.Contains(path, e.Message);
        Assert.Contains("1000000", e.Message);
    }

    [Theory]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}""", "not valid JSON")]
    [InlineData("""[1, 2]""", "JSON object")]
    [InlineData("""{"w":[1]}""", "'w'")]
    [InlineData("""{"w":{"shape":[2],"data_offsets":[0,8]}}""", "'dtype'")]
    [InlineData("""{"w":{"dtype":"F32","data_offsets":[0,8]}}""", "'shape'")]
    [InlineData("""{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", "-2")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2]}}""", "data_offsets")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[-1,7]}}""", "-1")]
    [InlineData("""{"__metadata__":{"format":1},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "__metadata__")]
    public void MalformedHeaderJsonNamesTheFile(string header, string mentions)
    {
        var e = OpenBad(Craft(header, Data(8)), out var path);
        Assert.Equal(CheckpointErrorKind.MalformedHeader, e.Kind);
        Assert.Contains(path, e.Message);
        Assert.Contains(mentions, e.Message);
    }

    [Theory]
    [InlineData("I64")]
    [InlineData("F8_E4M3")]
    [InlineData("F64")]
    public void UnsupportedDTypeNamesFileTensorAndDtype(string dtype)
    {
        var e = OpenBad(Craft($$$"""{"model.w":{"dtype":"{{{dtype}}}","shape":[1],"data_offsets":[0,8]}}""", Data(8)), out var path);
        Assert.Equal(CheckpointErrorKind.UnsupportedDType, e.Kind);
        Assert.Equal("model.w", e.Key);
        Assert.Contains(path, e.Message);
        Assert.Contains("'model.w'", e.Message);
        Assert.Contains(dtype, e.Message);
    }

    [Fact]
    public void ReversedDataOffsets()
    {
        var e = OpenBad(Craft("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", Data(8)), out var path);
        Assert.Equal(CheckpointErrorKind.MalformedHeader, e.Kind);
        Assert.Equal("w", e.Key);
        Assert.Contains("reversed", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void OverlappingTensorsNameBoth()
    {
        var header = """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""";
        var e = OpenBad(Craft(header, Data(16)), out var path);
        Assert.Equal(CheckpointErrorKind.MalformedHeader, e.Kind);
        Assert.Contains("'a'", e.Message);
        Assert.Contains("'b'", e.Message);
        Assert.Contains("overlap", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void ShapeTimesDtypeMustEqualTheByteRange()
    {
        var e = OpenBad(Craft("""{"w":{"dtype":"BF16","shape":[3,2],"data_offsets":[0,16]}}""", Data(16)), out var path);
        Assert.Equal(CheckpointErrorKind.MalformedHeader, e.Kind);
        Assert.Equal("w", e.Key);
        Assert.Contains("[3, 2]", e.Message);
        Assert.Contains("12 bytes", e.Message);
        Assert.Contains("16 bytes", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void TruncatedDataSection()
    {
        var header = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}""";
        var e = OpenBad(Craft(header, Data(20)), out var path);
        Assert.Equal(CheckpointErrorKind.Truncated, e.Kind);
        Assert.Equal("b", e.Key);
        Assert.Contains("truncated", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void AWellFormedCraftedFileOpens()
    {
        // The control for the cases above: the same crafting yields a readable file when nothing is wrong.
        var data = Data(24);
        var header = """{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[2,4],"data_offsets":[8,24]}}""";
        var dir = Directory.CreateTempSubdirectory("fse-good-").FullName;
        try
        {
            var path = Path.Combine(dir, "good.safetensors");
            File.WriteAllBytes(path, Craft(header, data));
            using var file = SafetensorsFile.Open(path);
            Assert.Equal(2, file.Count);
            Assert.Equal(data.Take(8), file["a"].Bytes.ToArray());
            Assert.Equal(new TensorShape(2, 4), file["b"].Shape);
        }
        finally { Directory.Delete(dir, true); }
    }
}
