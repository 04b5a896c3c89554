namespace Fse.Runtime.Tests.Demo;

/// <summary>Finds the committed default model (Module/Models/default) above the test assembly.</summary>
public static class DefaultModel
{
    public static string Directory { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "Module", "Models", "default");
            if (File.Exists(Path.Combine(candidate, "config.json"))) return candidate;
        }
        throw new DirectoryNotFoundException("Module/Models/default was not found above the test assembly.");
    }
}
