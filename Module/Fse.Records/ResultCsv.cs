using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using CsvHelper.TypeConversion;

namespace Fse.Records;

/// <summary>
/// Flat result records of type <typeparamref name="T"/> as CSV (CsvHelper): one column per public property in
/// declaration order, invariant culture, ISO-8601 round-trip times, doubles round-trip exact (NaN and Infinity as
/// words). Appending checks the existing header first, and every call closes the file, so a crash after it loses
/// nothing written. Reading also accepts Export-Csv output of the objects.
/// </summary>
public sealed class ResultCsv<T>
{
    private static readonly CsvConfiguration Config = new(CultureInfo.InvariantCulture)
    {
        HeaderValidated = null,
        MissingFieldFound = null,
    };

    private readonly string[] _keyColumns;
    private readonly string _kind;

    /// <param name="kind">A word for messages, e.g. "benchmark result".</param>
    /// <param name="keyColumns">Columns whose presence marks a CSV as holding these records.</param>
    public ResultCsv(string kind, params string[] keyColumns)
    {
        _kind = kind;
        _keyColumns = keyColumns;
        Columns = typeof(T).GetProperties().Select(p => p.Name).ToArray();
    }

    /// <summary>The columns, in the order written.</summary>
    public IReadOnlyList<string> Columns { get; }

    public bool MatchesHeader(IReadOnlyCollection<string> header) => _keyColumns.All(header.Contains);

    /// <summary>Writes the records, replacing the file, or after its rows when <paramref name="append"/> (a header only when the file is new or empty).</summary>
    public void Write(string path, IEnumerable<T> records, bool append)
    {
        bool writeHeader = true;
        if (append && File.Exists(path) && new FileInfo(path).Length > 0)
        {
            var header = ReadHeader(path);
            if (!header.SequenceEqual(Columns))
                throw new InvalidDataException($"{path} has other columns than {typeof(T).Name} rows ({string.Join(",", header.Take(4))}…); append to a {_kind} CSV or write a new file.");
            writeHeader = false;
        }
        using var stream = new FileStream(path, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read);
        using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false));
        using var csv = new CsvWriter(writer, Config);
        csv.Context.RegisterClassMap<NullableStringMap>();
        csv.Context.TypeConverterOptionsCache.GetOptions<DateTimeOffset>().Formats = ["O"];
        if (writeHeader)
        {
            csv.WriteHeader<T>();
            csv.NextRecord();
        }
        foreach (var r in records)
        {
            csv.WriteRecord(r);
            csv.NextRecord();
        }
        csv.Flush();
        stream.Flush(flushToDisk: true);
    }

    public IReadOnlyList<T> Read(string path)
    {
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, Config);
        csv.Context.TypeConverterCache.AddConverter<double>(new WordsDoubleConverter());
        csv.Context.RegisterClassMap<NullableStringMap>();
        csv.Read();
        csv.ReadHeader();
        var header = csv.HeaderRecord ?? [];
        if (!MatchesHeader(header))
            throw new InvalidDataException($"{path} is not a {_kind} CSV: it lacks the columns {string.Join(", ", _keyColumns.Where(k => !header.Contains(k)))}.");
        var rows = new List<T>();
        while (csv.Read()) rows.Add(csv.GetRecord<T>());
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

    /// <summary>Every property in declaration order; an empty cell reads back as null for strings declared nullable (string?).</summary>
    private sealed class NullableStringMap : ClassMap<T>
    {
        public NullableStringMap()
        {
            AutoMap(CultureInfo.InvariantCulture);
            var nullability = new System.Reflection.NullabilityInfoContext();
            foreach (var member in MemberMaps)
                if (member.Data.Member is System.Reflection.PropertyInfo { PropertyType: var t } p && t == typeof(string)
                    && nullability.Create(p).ReadState == System.Reflection.NullabilityState.Nullable)
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
