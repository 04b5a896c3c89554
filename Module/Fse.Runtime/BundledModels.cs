namespace Fse.Runtime;

/// <summary>
/// Checkpoints shipped with the module (the trained <c>default</c> model) under its <c>models/</c> folder, found by name:
/// <c>FSE_MODELS_PATH</c> if set, else <c>models/</c> beside this assembly (the module folder) or one folder up (the
/// server's folder inside the module).
/// </summary>
public static class BundledModels
{
    public const string Default = "default";

    public static IReadOnlyList<string> SearchPaths
    {
        get
        {
            var paths = new List<string>();
            if (Environment.GetEnvironmentVariable("FSE_MODELS_PATH") is { Length: > 0 } env) paths.Add(env);
            var here = Path.GetDirectoryName(typeof(BundledModels).Assembly.Location);
            if (!string.IsNullOrEmpty(here))
            {
                paths.Add(Path.Combine(here, "models"));
                paths.Add(Path.Combine(here, "..", "models"));
            }
            return paths;
        }
    }

    /// <summary>The directory of the bundled model <paramref name="name"/>, when one with a config.json exists.</summary>
    public static bool TryResolve(string name, out string directory)
    {
        directory = "";
        if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(['/', '\\']) >= 0 || name is "." or "..") return false;
        foreach (var root in SearchPaths)
        {
            var candidate = Path.GetFullPath(Path.Combine(root, name));
            if (File.Exists(Path.Combine(candidate, "config.json")))
            {
                directory = candidate;
                return true;
            }
        }
        return false;
    }
}
