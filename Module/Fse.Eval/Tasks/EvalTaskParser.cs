using System.Reflection;
using System.Text.Json;
using Fse.Eval.Prompting;
using Fse.Eval.Scoring;

namespace Fse.Eval.Tasks;

/// <summary>
/// Reads task definitions: a JSON object shaped like an lm-eval task YAML (<c>task</c>, <c>doc_to_text</c>,
/// <c>doc_to_target</c>, <c>target_delimiter</c>, <c>fewshot_delimiter</c>, <c>num_fewshot</c>,
/// <c>fewshot_config.sampler</c>, <c>generation_kwargs</c>, <c>metric_list</c>, <c>filter_list</c>,
/// <c>metadata.version</c>) plus a <c>data</c> object naming the JSONL files (<c>test</c>, <c>fewshot</c>) and an
/// optional <c>path_env</c>, or a built-in generator (<c>generator</c>, <c>seed</c>, <c>test_size</c>,
/// <c>fewshot_size</c>; see <see cref="GeneratedDocuments"/>). A file may hold one object, an array of them, or one per
/// line (JSONL). Unknown keys are errors, so a misspelt key cannot silently change a score; lm-eval's dataset-hub keys
/// are accepted and ignored.
/// </summary>
public static class EvalTaskParser
{
    private static readonly string[] IgnoredKeys =
        ["tag", "group", "task_alias", "dataset_path", "dataset_name", "dataset_kwargs", "training_split", "validation_split",
         "test_split", "fewshot_split", "should_decontaminate", "doc_to_decontamination_query", "$schema", "comment"];

    private static readonly JsonDocumentOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>The names of the built-in tasks.</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } =
        [.. typeof(EvalTaskParser).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal))
            .Select(n => n[ResourcePrefix.Length..^5]).Order(StringComparer.Ordinal)];

    private const string ResourcePrefix = "Fse.Eval.Tasks.";

    /// <summary>A built-in task by name (case-insensitive).</summary>
    public static EvalTaskDefinition BuiltIn(string name)
    {
        var match = BuiltInNames.FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new EvalTaskException(EvalTaskErrorKind.UnknownTask, $"There is no built-in task '{name}'; built in: {string.Join(", ", BuiltInNames)}. Define others with a task file.");
        using var stream = typeof(EvalTaskParser).Assembly.GetManifestResourceStream(ResourcePrefix + match + ".json")!;
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), $"built-in task {match}", null).Single();
    }

    /// <summary>Every task defined in a JSON or JSONL file.</summary>
    public static IReadOnlyList<EvalTaskDefinition> LoadFile(string path)
    {
        if (!File.Exists(path))
            throw new EvalTaskException(EvalTaskErrorKind.FileNotFound, $"The task file '{path}' does not exist.", path);
        var full = Path.GetFullPath(path);
        return Parse(File.ReadAllText(full), full, full);
    }

    /// <summary>Parses definitions from text; <paramref name="where"/> names the source in errors.</summary>
    public static IReadOnlyList<EvalTaskDefinition> Parse(string text, string where, string? sourcePath)
    {
        var roots = new List<(JsonElement Root, string Where)>();
        var docs = new List<JsonDocument>();
        try
        {
            try
            {
                var doc = JsonDocument.Parse(text, Options);
                docs.Add(doc);
                if (doc.RootElement.ValueKind == JsonValueKind.Array)
                    roots.AddRange(doc.RootElement.EnumerateArray().Select((e, i) => (e, $"{where}[{i}]")));
                else roots.Add((doc.RootElement, where));
            }
            catch (JsonException whole)
            {
                // Not one JSON value: try JSONL, one definition per non-blank line.
                var lines = text.Split('\n');
                if (lines.Count(l => !string.IsNullOrWhiteSpace(l)) < 2)
                    throw Invalid(where, sourcePath, $"not valid JSON ({whole.Message})");
                for (int i = 0; i < lines.Length; i++)
                {
                    if (string.IsNullOrWhiteSpace(lines[i])) continue;
                    JsonDocument line;
                    try { line = JsonDocument.Parse(lines[i], Options); }
                    catch (JsonException e)
                    {
                        throw new EvalTaskException(EvalTaskErrorKind.InvalidDefinition, $"{where}:{i + 1}: not valid JSON ({e.Message})", sourcePath, i + 1, e);
                    }
                    docs.Add(line);
                    roots.Add((line.RootElement, $"{where}:{i + 1}"));
                }
            }
            if (roots.Count == 0) throw Invalid(where, sourcePath, "defines no task");
            var tasks = roots.Select(r => ParseTask(r.Root, r.Where, sourcePath)).ToList();
            var duplicate = tasks.GroupBy(t => t.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null) throw Invalid(where, sourcePath, $"defines the task '{duplicate.Key}' more than once");
            return tasks;
        }
        finally
        {
            foreach (var d in docs) d.Dispose();
        }
    }

    private static EvalTaskDefinition ParseTask(JsonElement root, string where, string? sourcePath)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Invalid(where, sourcePath, $"a task definition must be a JSON object, not {root.ValueKind}");
        if (!root.TryGetProperty("task", out var taskName) || taskName.ValueKind != JsonValueKind.String || taskName.GetString() is not { Length: > 0 } name)
            throw Invalid(where, sourcePath, "'task' (the task's name, a non-empty string) is missing");
        var o = new ObjectReader(root, $"{where} (task '{name}')", sourcePath);
        o.Ignore(IgnoredKeys);
        o.Ignore(["task"]);

        if (o.String("output_type") is { } outputType && outputType != "generate_until")
            throw o.Error($"output_type '{outputType}' is not supported; only generate_until tasks are");
        if (o.Int("repeats") is { } repeats && repeats != 1)
            throw o.Error("repeats other than 1 are not supported");

        var data = o.Object("data") ?? throw o.Error("the 'data' object (with 'test', the JSONL file to score, or 'generator') is missing");
        string? testFile = null, fewshotFile = null, pathEnv = null;
        GeneratedData? generated = null;
        if (data.String("generator") is { } generator)
        {
            if (!GeneratedDocuments.IsKnown(generator))
                throw data.Error($"the data generator '{generator}' is not built in ({string.Join(", ", GeneratedDocuments.Names)})");
            var seed = data.Long("seed") ?? throw data.Error("'seed' (an integer ≥ 0) is missing: generated data needs one");
            if (seed < 0) throw data.Error("'seed' must be 0 or more");
            var testSize = data.Int("test_size") ?? throw data.Error("'test_size' (the number of documents to score) is missing");
            if (testSize < 1) throw data.Error("'test_size' must be at least 1");
            var fewshotSize = data.Int("fewshot_size") ?? 0;
            if (fewshotSize < 0) throw data.Error("'fewshot_size' must be 0 or more");
            generated = new GeneratedData(generator, seed, testSize, fewshotSize);
        }
        else
        {
            testFile = data.RequiredString("test");
            fewshotFile = data.String("fewshot");
            pathEnv = data.String("path_env");
        }
        data.EnsureNoOtherKeys();

        var numFewshot = o.Int("num_fewshot") ?? 0;
        if (numFewshot < 0) throw o.Error("num_fewshot must be 0 or more");
        var sampler = FewshotSamplerKind.Default;
        if (o.Object("fewshot_config") is { } fc)
        {
            sampler = fc.String("sampler") switch
            {
                null or "default" => FewshotSamplerKind.Default,
                "first_n" => FewshotSamplerKind.FirstN,
                var s => throw fc.Error($"the few-shot sampler '{s}' is not supported (default, first_n)"),
            };
            fc.EnsureNoOtherKeys();
        }

        var until = new List<string>();
        int maxGen = 256;
        double temperature = 0;
        if (o.Object("generation_kwargs") is { } gen)
        {
            until = gen.StringOrStrings("until") ?? [];
            if (gen.Bool("do_sample") == true) throw gen.Error("do_sample true is not supported: accuracy checks decode greedily");
            temperature = gen.Double("temperature") ?? 0;
            maxGen = gen.Int("max_gen_toks") ?? gen.Int("max_tokens") ?? 256;
            if (maxGen < 1) throw gen.Error("max_gen_toks must be at least 1");
            gen.EnsureNoOtherKeys();
        }

        var metric = new ExactMatch();
        if (o.Array("metric_list") is { } metrics)
        {
            if (metrics.Count != 1) throw o.Error("metric_list must hold exactly one metric (exact_match)");
            var m = metrics[0];
            if (m.RequiredString("metric") is var metricName && metricName != "exact_match")
                throw m.Error($"the metric '{metricName}' is not supported; only exact_match is");
            if (m.String("aggregation") is { } agg && agg != "mean") throw m.Error($"the aggregation '{agg}' is not supported; only mean is");
            m.Bool("higher_is_better");
            metric = Guard(m, () => new ExactMatch(m.StringOrStrings("regexes_to_ignore"), m.Bool("ignore_case") ?? false,
                m.Bool("ignore_punctuation") ?? false, m.Bool("ignore_numbers") ?? false));
            m.EnsureNoOtherKeys();
        }

        var filters = new List<ResponseFilter>();
        if (o.Array("filter_list") is { } filterList)
        {
            foreach (var f in filterList)
            {
                var filterName = f.RequiredString("name");
                var steps = new List<FilterStep>();
                foreach (var s in f.Array("filter") ?? throw f.Error($"the filter '{filterName}' has no 'filter' steps"))
                {
                    steps.Add(s.RequiredString("function") switch
                    {
                        "regex" => Guard(s, () => new RegexFilterStep(
                            s.String("regex_pattern") ?? @"#### (\-?[0-9\.\,]+)", s.Int("group_select") ?? 0, s.String("fallback") ?? RegexFilterStep.DefaultFallback)),
                        "take_first" => new TakeFirstStep(),
                        "lowercase" => new LowercaseStep(),
                        "uppercase" => new UppercaseStep(),
                        var fn => throw s.Error($"the filter function '{fn}' is not supported (regex, take_first, lowercase, uppercase)"),
                    });
                    s.EnsureNoOtherKeys();
                }
                if (filters.Any(x => x.Name == filterName)) throw f.Error($"the filter name '{filterName}' is used twice");
                filters.Add(new ResponseFilter(filterName, steps));
                f.EnsureNoOtherKeys();
            }
        }
        if (filters.Count == 0) filters.Add(ResponseFilter.None);

        string? version = null;
        if (o.Object("metadata") is { } meta)
        {
            version = meta.Scalar("version");
            meta.IgnoreRest();
        }

        var task = new EvalTaskDefinition
        {
            Name = name,
            Version = version,
            Description = o.String("description") is { Length: > 0 } d ? Template(o, d, "description") : null,
            DocToText = Template(o, o.RequiredString("doc_to_text"), "doc_to_text"),
            DocToTarget = Template(o, o.RequiredString("doc_to_target"), "doc_to_target"),
            TargetDelimiter = o.String("target_delimiter") ?? " ",
            FewshotDelimiter = o.String("fewshot_delimiter") ?? "\n\n",
            NumFewshot = numFewshot,
            Sampler = sampler,
            TestFile = testFile,
            FewshotFile = fewshotFile,
            DataPathVariable = pathEnv,
            Generated = generated,
            Until = until,
            MaxGenTokens = maxGen,
            Temperature = temperature,
            Metric = metric,
            Filters = filters,
            SourcePath = sourcePath,
        };
        o.EnsureNoOtherKeys();
        if (task.NumFewshot > 0 && generated is null && task.FewshotFile is null)
            throw o.Error("num_fewshot is above 0 but data.fewshot names no few-shot file");
        if (generated is not null && task.NumFewshot > generated.FewshotSize)
            throw o.Error($"num_fewshot {task.NumFewshot} is above data.fewshot_size {generated.FewshotSize}");
        return task;
    }

    private static PromptTemplate Template(ObjectReader o, string text, string what)
    {
        try { return PromptTemplate.Parse(text, what); }
        catch (FormatException e) { throw o.Error(e.Message); }
    }

    private static T Guard<T>(ObjectReader o, Func<T> make)
    {
        try { return make(); }
        catch (FormatException e) { throw o.Error(e.Message); }
    }

    private static EvalTaskException Invalid(string where, string? path, string what) =>
        new(EvalTaskErrorKind.InvalidDefinition, $"{where}: {what}.", path);

    /// <summary>Typed access to one JSON object that remembers which keys were read, so unread ones can be reported.</summary>
    private sealed class ObjectReader(JsonElement e, string where, string? path)
    {
        private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

        public EvalTaskException Error(string what) => Invalid(where, path, what);

        public void Ignore(IEnumerable<string> keys) => _seen.UnionWith(keys);

        public void IgnoreRest()
        {
            foreach (var p in e.EnumerateObject()) _seen.Add(p.Name);
        }

        public void EnsureNoOtherKeys()
        {
            var unknown = e.EnumerateObject().Select(p => p.Name).Where(n => !_seen.Contains(n)).ToList();
            if (unknown.Count > 0) throw Error($"unknown or unsupported key{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"'{u}'"))}");
        }

        private JsonElement? Get(string key)
        {
            _seen.Add(key);
            return e.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;
        }

        public string RequiredString(string key) => String(key) ?? throw Error($"'{key}' is missing");

        public string? String(string key) => Get(key) switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } v => v.GetString(),
            _ => throw Error($"'{key}' must be a string"),
        };

        public string? Scalar(string key) => Get(key) switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } v => v.GetString(),
            { ValueKind: JsonValueKind.Number } v => v.GetRawText(),
            _ => throw Error($"'{key}' must be a string or a number"),
        };

        public List<string>? StringOrStrings(string key) => Get(key) switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } v => [v.GetString()!],
            { ValueKind: JsonValueKind.Array } v when v.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String) =>
                [.. v.EnumerateArray().Select(x => x.GetString()!)],
            _ => throw Error($"'{key}' must be a string or an array of strings"),
        };

        public int? Int(string key) => Get(key) switch
        {
            null => null,
            { ValueKind: JsonValueKind.Number } v when v.TryGetInt32(out var i) => i,
            _ => throw Error($"'{key}' must be an integer"),
        };

        public long? Long(string key) => Get(key) switch
        {
            null => null,
            { ValueKind: JsonValueKind.Number } v when v.TryGetInt64(out var i) => i,
            _ => throw Error($"'{key}' must be an integer"),
        };

        public double? Double(string key) => Get(key) switch
        {
            null => null,
            { ValueKind: JsonValueKind.Number } v => v.GetDouble(),
            _ => throw Error($"'{key}' must be a number"),
        };

        public bool? Bool(string key) => Get(key) switch
        {
            null => null,
            { ValueKind: JsonValueKind.True } => true,
            { ValueKind: JsonValueKind.False } => false,
            _ => throw Error($"'{key}' must be true or false"),
        };

        public ObjectReader? Object(string key) => Get(key) switch
        {
            null => null,
            { ValueKind: JsonValueKind.Object } v => new ObjectReader(v, $"{where}.{key}", path),
            _ => throw Error($"'{key}' must be an object"),
        };

        public List<ObjectReader>? Array(string key) => Get(key) switch
        {
            null => null,
            { ValueKind: JsonValueKind.Array } v => [.. v.EnumerateArray().Select((x, i) => x.ValueKind == JsonValueKind.Object
                ? new ObjectReader(x, $"{where}.{key}[{i}]", path)
                : throw Error($"'{key}[{i}]' must be an object"))],
            _ => throw Error($"'{key}' must be an array"),
        };
    }
}
