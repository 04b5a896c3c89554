using Fse.Bench;
using Fse.Eval;
using Fse.Eval.Comparison;

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

    /// <summary>Kinds of one family are compared together (accuracy results with their per-item records).</summary>
    public string? Family { get; init; }

    public string FamilyName => Family ?? Name;

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

    private static ComparisonOutput CompareAccuracy(IReadOnlyList<object> baseline, IReadOnlyList<object> candidate)
    {
        var items = (IReadOnlyList<object> list) => list.OfType<FseAccuracyItem>().ToList() is { Count: > 0 } l ? l : null;
        var c = AccuracyComparison.Compare(baseline.OfType<FseAccuracyResult>(), candidate.OfType<FseAccuracyResult>(), items(baseline), items(candidate));
        return new ComparisonOutput([.. c.Rows], c.ToMarkdown(), []);
    }

    public static readonly ResultKind Accuracy = new()
    {
        ResultType = typeof(FseAccuracyResult),
        Name = "accuracy",
        Family = "accuracy",
        FseMode = o => ((FseAccuracyResult)o).Fse,
        Compare = CompareAccuracy,
        MatchesCsvHeader = FseAccuracyCsv.Results.MatchesHeader,
        ReadCsv = path => FseAccuracyCsv.Results.Read(path),
        WriteCsv = (path, results, append) => FseAccuracyCsv.Results.Write(path, results.Cast<FseAccuracyResult>(), append),
    };

    public static readonly ResultKind AccuracyItem = new()
    {
        ResultType = typeof(FseAccuracyItem),
        Name = "accuracy item",
        Family = "accuracy",
        FseMode = o => ((FseAccuracyItem)o).Fse,
        Compare = CompareAccuracy,
        MatchesCsvHeader = FseAccuracyCsv.Items.MatchesHeader,
        ReadCsv = path => FseAccuracyCsv.Items.Read(path),
        WriteCsv = (path, results, append) => FseAccuracyCsv.Items.Write(path, results.Cast<FseAccuracyItem>(), append),
    };

    public static IReadOnlyList<ResultKind> All { get; } = [Benchmark, Accuracy, AccuracyItem];

    public static ResultKind? ForObject(object? o) => o is null ? null : All.FirstOrDefault(k => k.ResultType.IsInstanceOfType(o));

    public static ResultKind? ForCsvHeader(IReadOnlyCollection<string> header) => All.FirstOrDefault(k => k.MatchesCsvHeader(header));

    public static string KnownTypes => string.Join(", ", All.Select(k => k.ResultType.Name));
}
