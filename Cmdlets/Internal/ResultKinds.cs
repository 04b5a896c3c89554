using Fse.Bench;

namespace Fse.Cmdlets.Internal;

/// <summary>
/// One kind of result object the result cmdlets handle (benchmark now; accuracy results join by adding an entry to
/// <see cref="ResultKinds.All"/>): how to tell its FSE mode, pair baseline with candidate, and read and write its CSV.
/// Compare-FseResult, Export-FseResult and Import-FseResult dispatch on the input's type or the CSV header through this.
/// </summary>
internal sealed class ResultKind
{
    public required Type ResultType { get; init; }

    /// <summary>A word for messages: "benchmark".</summary>
    public required string Name { get; init; }

    /// <summary>The result's FSE mode ("On"/"Off"/other/null), for grouping piped results.</summary>
    public required Func<object, string?> FseMode { get; init; }

    /// <summary>Pairs baseline and candidate results: the comparison rows, the Markdown table and what could not be paired.</summary>
    public required Func<IReadOnlyList<object>, IReadOnlyList<object>, ComparisonOutput> Compare { get; init; }

    public required Func<IReadOnlyCollection<string>, bool> MatchesCsvHeader { get; init; }
    public required Func<string, IEnumerable<object>> ReadCsv { get; init; }

    /// <summary>Writes results to a CSV file (path, results, append).</summary>
    public required Action<string, IEnumerable<object>, bool> WriteCsv { get; init; }
}

internal sealed record ComparisonOutput(IReadOnlyList<object> Rows, string Markdown, IReadOnlyList<string> Warnings);

internal static class ResultKinds
{
    public static readonly ResultKind Benchmark = new()
    {
        ResultType = typeof(FseBenchmarkResult),
        Name = "benchmark",
        FseMode = o => ((FseBenchmarkResult)o).Fse,
        Compare = (baseline, candidate) =>
        {
            var set = BenchmarkComparer.Compare(baseline.Cast<FseBenchmarkResult>(), candidate.Cast<FseBenchmarkResult>());
            return new ComparisonOutput(set.Rows, BenchmarkComparer.ToMarkdown(set.Rows), set.Warnings);
        },
        MatchesCsvHeader = FseBenchmarkCsv.IsBenchmarkHeader,
        ReadCsv = FseBenchmarkCsv.Read,
        WriteCsv = (path, results, append) => FseBenchmarkCsv.Write(path, results.Cast<FseBenchmarkResult>(), append),
    };

    public static IReadOnlyList<ResultKind> All { get; } = [Benchmark];

    public static ResultKind? ForObject(object? o) => o is null ? null : All.FirstOrDefault(k => k.ResultType.IsInstanceOfType(o));

    public static ResultKind? ForCsvHeader(IReadOnlyCollection<string> header) => All.FirstOrDefault(k => k.MatchesCsvHeader(header));

    public static string KnownTypes => string.Join(", ", All.Select(k => k.ResultType.Name));
}
