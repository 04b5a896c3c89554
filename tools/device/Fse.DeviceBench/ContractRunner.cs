using System.Reflection;
using Fse.Kernels;
using Fse.Kernels.Cuda;
using Fse.Kernels.Tests;
using Xunit;
using Xunit.Sdk;

namespace Fse.DeviceBench;

/// <summary>
/// Runs every [Fact] and [Theory]/[InlineData] case of <see cref="BackendContract"/> against one backend by reflection
/// (the GPU machine has the .NET runtime but no SDK, so no <c>dotnet test</c>).
/// </summary>
internal static class ContractRunner
{
    private sealed class OnBackend(IBackend backend) : BackendContract
    {
        protected override IBackend CreateBackend() => new BorrowedBackend(backend);
    }

    public sealed record Outcome(string Variant, int Passed, IReadOnlyList<string> Failures);

    public static Outcome Run(string variant, CudaBackend backend)
    {
        var contract = new OnBackend(backend);
        var failures = new List<string>();
        int passed = 0;
        var methods = typeof(BackendContract).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.GetCustomAttribute<FactAttribute>() is not null)
            .OrderBy(m => m.Name);
        foreach (var m in methods)
        {
            var cases = m.GetCustomAttribute<TheoryAttribute>() is null
                ? [Array.Empty<object?>()]
                : m.GetCustomAttributes<InlineDataAttribute>().SelectMany(d => d.GetData(m)).ToList();
            foreach (var args in cases)
            {
                string name = $"{m.Name}({string.Join(", ", args)})";
                try
                {
                    m.Invoke(contract, args);
                    passed++;
                }
                catch (TargetInvocationException e)
                {
                    failures.Add($"{name}: {e.InnerException?.GetType().Name}: {FirstLine(e.InnerException?.Message)}");
                }
            }
        }
        Console.WriteLine($"contract [{variant}]: {passed} passed, {failures.Count} failed");
        foreach (var f in failures) Console.WriteLine("  FAIL " + f);
        return new Outcome(variant, passed, failures);
    }

    private static string FirstLine(string? s) => (s ?? "").Split('\n')[0].Trim();
}
