using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using CsvHelper.TypeConversion;

namespace Fse.Bench;

/// <summary>
/// <see cref="FseBenchmarkResult"/> rows as CSV (CsvHelper): invariant culture, ISO-8601 round-trip times, doubles
/// written round-trip exact (NaN and Infinity as words). Appending checks the existing header first, and every call
/// closes the file, so a crash after it loses nothing written. Reading also accepts Export-Csv output of the objects.
/// </summary>
public static class FseBenchmarkCsv
{
    private static readonly CsvConfiguration Config = new(CultureInfo.InvariantCulture)
    {
        HeaderValidated = null,
        MissingFieldFound = null,
    };

    /// <summary>The columns, in the order written.</summary>
    public static IReadOnlyList<string> Columns { get; } = typeof(FseBenchmarkResult).GetProperties().Select(p => p.Name).ToArray();

    /// <summary>The columns that mark a CSV as benchmark results (Import-FseResult detects the kind by header).</summary>
    private static readonly string[] KeyColumns = ["InputLength", "OutputLength", "MaxConcurrency", "MeanTpotMs", "OutputThroughput"];

    public static bool IsBenchmarkHeader(IReadOnlyCollection<string> header) => KeyColumns.All(header.Contains);

    /// <summary>Writes the results, replacing the file, or after its rows when <paramref name="append"/> (a header only when the file is new or empty).</summary>
    public static void Write(string path, IEnumerable<FseBenchmarkResult> results, bool append)
    {
        bool writeHeader = true;
        if (append && File.Exists(path) && new FileInfo(path).Length > 0)
        {
            var header = ReadHeader(path);
            if (!header.SequenceEqual(Columns))
                throw new InvalidDataException($"{path} has other columns than FseBenchmarkResult rows ({string.Join(",", header.Take(4))}…); append to a benchmark CSV or write a new file.");
            writeHeader = false;
        }
        using var stream = new FileStream(path, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read);
        using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false));
        using var csv = new CsvWriter(writer, Config);
        csv.Context.RegisterClassMap<ResultMap>();
        csv.Context.TypeConverterOptionsCache.GetOptions<DateTimeOffset>().Formats = ["O"];
        if (writeHeader)
        {
            csv.WriteHeader<FseBenchmarkResult>();
            csv.NextRecord();
        }
        foreach (var r in results)
        {
            csv.WriteRecord(r);
            csv.NextRecord();
        }
        csv.Flush();
        stream.Flush(flushToDisk: true);
    }

    public static void Append(string path, FseBenchmarkResult result) => Write(path, [result], append: true);

    public static IReadOnlyList<FseBenchmarkResult> Read(string path)
    {
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, Config);
        csv.Context.TypeConverterCache.AddConverter<double>(new WordsDoubleConverter());
        csv.Context.RegisterClassMap<ResultMap>();
        csv.Read();
        csv.ReadHeader();
        var header = csv.HeaderRecord ?? [];
        if (!IsBenchmarkHeader(header))
            throw new InvalidDataException($"{path} is not a benchmark result CSV: it lacks the columns {string.Join(", ", KeyColumns.Where(k => !header.Contains(k)))}.");
        var rows = new List<FseBenchmarkResult>();
        while (csv.Read()) rows.Add(csv.GetRecord<FseBenchmarkResult>());
        return rows;
    }

    /// <summary>The header row of any CSV file (empty for an empty file).</summary>
    public static IReadOnlyList<string> ReadHeader(string path)
    {
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, Config);
        if (!csv.Read()) return [];
        csv.ReadHeader();
        return csv.HeaderRecord ?? [];
    }

    /// <summary>The properties in declaration order; an empty cell reads back as null for the optional strings.</summary>
    private sealed class ResultMap : ClassMap<FseBenchmarkResult>
    {
        public ResultMap()
        {
            AutoMap(CultureInfo.InvariantCulture);
            foreach (var member in MemberMaps.Where(m => m.Data.Member?.Name is "Label" or "Model" or "Fse" or "Device" or "Server"))
                member.Data.TypeConverterOptions.NullValues.Add("");
        }
    }

    /// <summary>Doubles in the invariant culture, also as the ∞ signs a culture-formatted Export-Csv may write.</summary>
    private sealed class WordsDoubleConverter : DoubleConverter
    {
        public override object? ConvertFromString(string? text, IReaderRow row, MemberMapData memberMapData) => text?.Trim() switch
        {
            "∞" or "+∞" => double.PositiveInfinity,
            "-∞" => double.NegativeInfinity,
            _ => base.ConvertFromString(text, row, memberMapData),
        };
    }
}
