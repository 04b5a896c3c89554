using System.Globalization;
using System.Reflection;

namespace Fse.Bench.Tests;

public sealed class FseBenchmarkCsvTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fse-csv-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static void AssertSame(FseBenchmarkResult expected, FseBenchmarkResult actual)
    {
        foreach (var p in typeof(FseBenchmarkResult).GetProperties(BindingFlags.Public | BindingFlags.Instance))
            Assert.True(Equals(p.GetValue(expected), p.GetValue(actual)), $"{p.Name}: wrote {p.GetValue(expected)}, read {p.GetValue(actual)}");
    }

    [Fact]
    public void RoundTripsEveryPropertyExactly()
    {
        var rng = new Random(611);
        var results = new[]
        {
            SampleResults.Random(rng, "Off", 1000, 100, 4),
            SampleResults.Random(rng, "On", 5000, 500, 64, rate: 7.25),
            SampleResults.Random(rng, null, 10000, 1000, 16),
        };
        var file = Path.Combine(_dir, "r.csv");
        FseBenchmarkCsv.Write(file, results, append: false);
        var read = FseBenchmarkCsv.Read(file);
        Assert.Equal(3, read.Count);
        for (int i = 0; i < 3; i++) AssertSame(results[i], read[i]);
        Assert.Equal(FseBenchmarkCsv.Columns, FseBenchmarkCsv.ReadHeader(file));
    }

    [Fact]
    public void WritesInvariantNumbersAndIsoTimes()
    {
        var r = SampleResults.Random(new Random(5), "On", 1000, 100, 4);
        var file = Path.Combine(_dir, "r.csv");
        FseBenchmarkCsv.Write(file, [r], append: false);
        var text = File.ReadAllText(file);
        Assert.Contains(r.StartedAt.ToString("O", CultureInfo.InvariantCulture), text);
        Assert.Contains(r.MeanTpotMs.ToString("R", CultureInfo.InvariantCulture), text);
        Assert.Contains(",NaN,", text);
        Assert.Contains(",Infinity,", text);
    }

    [Fact]
    public void AppendAddsRowsUnderOneHeaderAndRefusesAnotherKindOfCsv()
    {
        var rng = new Random(12);
        var file = Path.Combine(_dir, "a.csv");
        FseBenchmarkCsv.Append(file, SampleResults.Random(rng, "Off", 1000, 100, 4));
        FseBenchmarkCsv.Append(file, SampleResults.Random(rng, "Off", 1000, 100, 16));
        FseBenchmarkCsv.Write(file, [SampleResults.Random(rng, "Off", 1000, 100, 64)], append: true);
        Assert.Equal([4, 16, 64], FseBenchmarkCsv.Read(file).Select(r => r.MaxConcurrency));
        Assert.Single(File.ReadLines(file), l => l.StartsWith("Label,", StringComparison.Ordinal));

        var other = Path.Combine(_dir, "other.csv");
        File.WriteAllText(other, "Config,FlexibleExtract,StrictMatch\nOff,0.5,0.4\n");
        Assert.Throws<InvalidDataException>(() => FseBenchmarkCsv.Append(other, SampleResults.Random(rng, "On", 1, 1, 1)));
        Assert.Throws<InvalidDataException>(() => FseBenchmarkCsv.Read(other));
        Assert.False(FseBenchmarkCsv.IsBenchmarkHeader(FseBenchmarkCsv.ReadHeader(other).ToArray()));
    }

    [Fact]
    public void ReadsExportCsvStyleFilesWithQuotedCellsSignsForInfinityAndCultureFormattedTimes()
    {
        var r = SampleResults.Random(new Random(77), "On", 1000, 100, 16);
        var file = Path.Combine(_dir, "export-csv.csv");
        // What Export-Csv writes: every cell quoted, values through ToString() in the session's culture.
        string Cell(System.Reflection.PropertyInfo p) => p.GetValue(r) switch
        {
            double d when double.IsPositiveInfinity(d) => "∞",
            double d => d.ToString(CultureInfo.InvariantCulture),
            DateTimeOffset t => t.ToString(CultureInfo.InvariantCulture),
            null => "",
            var v => Convert.ToString(v, CultureInfo.InvariantCulture)!.Replace("\"", "\"\""),
        };
        var props = typeof(FseBenchmarkResult).GetProperties();
        File.WriteAllText(file, string.Join(",", props.Select(p => $"\"{p.Name}\"")) + "\n" + string.Join(",", props.Select(p => $"\"{Cell(p)}\"")) + "\n");
        var read = Assert.Single(FseBenchmarkCsv.Read(file));
        Assert.True(double.IsPositiveInfinity(read.RequestRate));
        Assert.Equal(r.MeanTpotMs, read.MeanTpotMs);
        Assert.Equal(r.Label, read.Label);
        Assert.Equal(r.Errors, read.Errors);
        Assert.Equal(r.StartedAt.AddTicks(-(r.StartedAt.Ticks % TimeSpan.TicksPerSecond)), read.StartedAt);   // that format has whole seconds
    }
}
