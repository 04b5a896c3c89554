using Fse.Records;

namespace Fse.Bench;

/// <summary>
/// <see cref="FseBenchmarkResult"/> rows as CSV (see <see cref="ResultCsv{T}"/>): invariant culture, ISO-8601 times,
/// exact doubles, header-checked appends that close the file each time, so a crash loses nothing written.
/// </summary>
public static class FseBenchmarkCsv
{
    private static readonly ResultCsv<FseBenchmarkResult> Csv =
        new("benchmark result", "InputLength", "OutputLength", "MaxConcurrency", "MeanTpotMs", "OutputThroughput");

    /// <summary>The columns, in the order written.</summary>
    public static IReadOnlyList<string> Columns => Csv.Columns;

    public static bool IsBenchmarkHeader(IReadOnlyCollection<string> header) => Csv.MatchesHeader(header);

    /// <summary>Writes the results, replacing the file, or after its rows when <paramref name="append"/>.</summary>
    public static void Write(string path, IEnumerable<FseBenchmarkResult> results, bool append) => Csv.Write(path, results, append);

    public static void Append(string path, FseBenchmarkResult result) => Csv.Write(path, [result], append: true);

    public static IReadOnlyList<FseBenchmarkResult> Read(string path) => Csv.Read(path);

    /// <summary>The header row of any CSV file (empty for an empty file).</summary>
    public static IReadOnlyList<string> ReadHeader(string path) => ResultCsv<FseBenchmarkResult>.ReadHeader(path);
}
