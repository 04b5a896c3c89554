using System.Text.Json;

namespace Fse.Runtime.Tests.Parity;

/// <summary>One HF-transformers reference made by tools/fixtures/make_fixtures.py on the GPU machine.</summary>
public sealed record ParityFixture(string Name, string Directory, int[] InputIds, double[][] Logits, int[] GreedyPrompt, int[] GreedyNew, double[][] GreedyLogits)
{
    public override string ToString() => Name;
}

/// <summary>Finds and reads the committed fixtures under Tests/Fixtures/parity.</summary>
public static class ParityFixtures
{
    public static string Root { get; } = FindRoot();

    public static IEnumerable<string> Names =>
        System.IO.Directory.EnumerateDirectories(Root).Select(Path.GetFileName).Where(n => n is not null).Order()!;

    public static TheoryData<string> All
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var n in Names) data.Add(n);
            return data;
        }
    }

    public static ParityFixture Load(string name)
    {
        var dir = Path.Combine(Root, name);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "reference.json")));
        var r = doc.RootElement;
        var g = r.GetProperty("greedy");
        return new ParityFixture(name, dir, Ints(r.GetProperty("input_ids")), Matrix(r.GetProperty("logits")),
            Ints(g.GetProperty("prompt_ids")), Ints(g.GetProperty("new_ids")), Matrix(g.GetProperty("logits")));
    }

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    private static double[][] Matrix(JsonElement e) => e.EnumerateArray().Select(row => row.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "Tests", "Fixtures", "parity");
            if (System.IO.Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("Tests/Fixtures/parity was not found above the test assembly.");
    }
}
