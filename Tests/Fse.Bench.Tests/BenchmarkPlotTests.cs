using System.Buffers.Binary;

namespace Fse.Bench.Tests;

public sealed class BenchmarkPlotTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fse-plot-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void DrawsAValidPngOfTheRequestedSize()
    {
        var rng = new Random(42);
        var results = new List<FseBenchmarkResult>();
        foreach (var fse in new[] { "Off", "On" })
            foreach (var (isl, osl) in new[] { (1000, 100), (5000, 500) })
                foreach (var mc in new[] { 4, 16, 64 })
                    results.Add(SampleResults.Random(rng, fse, isl, osl, mc));
        var file = Path.Combine(_dir, "sub", "sweep.png");
        BenchmarkPlot.SavePng(file, results, 1200, 500, "Qwen3-Next");

        var bytes = File.ReadAllBytes(file);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        Assert.Equal(1200, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
        Assert.Equal(500, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
        Assert.Equal("IEND", System.Text.Encoding.ASCII.GetString(bytes, bytes.Length - 8, 4));
        Assert.True(bytes.Length > 20_000, "a plot with lines, labels and a legend is not a blank image");
    }

    [Fact]
    public void RefusesNothingToPlot() =>
        Assert.Throws<ArgumentException>(() => BenchmarkPlot.SavePng(Path.Combine(_dir, "x.png"), []));
}
