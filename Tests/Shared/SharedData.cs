namespace Fse.Tests;

/// <summary>
/// Finds the workplace's read-only data folder (GSM8K, the Qwen3 tokenizer): FSE_SHARED_DATA if set, else
/// shared/data beside the clone or beside any folder above it. Tests never copy it into the repository.
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string> Root = new(Find);

    public static string Directory => Root.Value;

    public static string PathOf(params string[] parts) => System.IO.Path.Combine([Directory, .. parts]);

    private static string Find()
    {
        var env = Environment.GetEnvironmentVariable("FSE_SHARED_DATA");
        if (!string.IsNullOrEmpty(env))
        {
            if (System.IO.Directory.Exists(env)) return env;
            throw new DirectoryNotFoundException($"FSE_SHARED_DATA is '{env}', which does not exist.");
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "shared", "data");
            if (System.IO.Directory.Exists(System.IO.Path.Combine(candidate, "gsm8k"))) return candidate;
        }
        throw new DirectoryNotFoundException(
            "The shared data folder (shared/data with gsm8k/ and qwen3-tokenizer/) was not found beside this clone or above it; set FSE_SHARED_DATA.");
    }
}
