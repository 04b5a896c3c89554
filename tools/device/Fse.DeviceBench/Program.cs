using System.Globalization;
using System.Text;
using Fse.DeviceBench;
using Fse.Kernels.Cpu;
using Fse.Kernels.Cuda;

// Fse.DeviceBench [contract|bench|all] [--out DIR] [--cpu-simulation]
// contract: the BackendContract against the CUDA backend in three MatMul configurations (default, every MatMul through
// cuBLAS, every MatMul through the tiled kernel); bench: the kernel micro-benchmarks. Prints a table last and exits
// non-zero when a contract case or a benchmark check failed.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string mode = args.FirstOrDefault(a => !a.StartsWith("--")) ?? "all";
string? outDir = args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault();
bool simulate = args.Contains("--cpu-simulation");

if (!simulate && !CudaBackend.IsCudaAvailable)
{
    Console.Error.WriteLine("No CUDA device: run on the GPU machine, or pass --cpu-simulation to run the contract on ILGPU's CPU accelerator.");
    return 2;
}
using var cuda = simulate ? CudaBackend.CreateCpuSimulation() : CudaBackend.CreateCuda();
Console.WriteLine(cuda.Description);
int failed = 0;
var summary = new StringBuilder();

if (mode is "contract" or "all")
{
    var variants = new (string Name, CudaBackendOptions Options)[]
    {
        ("default paths", new CudaBackendOptions()),
        ("all MatMul via cuBLAS", new CudaBackendOptions { GemvMaxTokens = 0, CublasMinTokens = 1 }),
        ("all MatMul via tiled kernel, attention in 16-key partitions", new CudaBackendOptions { GemvMaxTokens = 0, UseCublas = false, AttentionPartitionKeys = 16 }),
        ("all MatMul via GEMV", new CudaBackendOptions { GemvMaxTokens = int.MaxValue, UseCublas = false }),
    };
    foreach (var (name, options) in variants)
    {
        if (name.Contains("cuBLAS") && !cuda.HasCublas) continue;
        cuda.Options = options;
        var outcome = ContractRunner.Run(name, cuda);
        failed += outcome.Failures.Count;
        summary.AppendLine($"contract [{name}]: {outcome.Passed} passed, {outcome.Failures.Count} failed");
    }
    cuda.Options = new CudaBackendOptions();
}

var rows = new List<Row>();
if (mode is "bench" or "all")
{
    using var cpu = new CpuBackend();
    using var host = new HostWeights();
    var sizes = simulate ? BenchSizes.Tiny : BenchSizes.Gpu;
    var bench = new Benchmarks(cuda, cpu, host, sizes);
    void Step(string what, Action a)
    {
        Console.WriteLine($"-- {what}");
        try { a(); }
        catch (Exception e)
        {
            failed++;
            Console.WriteLine($"FAIL {what}: {e}");
        }
    }
    double copy = 0;
    Step("copy baseline", () => copy = bench.CopyBandwidth());
    Step("matmul", () => bench.MatMulPaths(sizes.MatMulN, sizes.MatMulK, sizes.MatMulTokens, copy));
    Step("matmul transposed shape", () => bench.MatMulPaths(sizes.MatMulK, sizes.MatMulN, sizes.MatMulTokensTransposed, copy));
    Step("routing", bench.Routing);
    Step("moe", bench.Moe);
    foreach (int b in sizes.AttentionBatches) Step($"attention B={b}", () => bench.AttentionDecode(b, sizes.AttentionContext));
    foreach (int b in sizes.DeltaBatches) Step($"deltanet B={b}", () => bench.DeltaNetDecode(b));
    rows.AddRange(bench.Rows);
    failed += rows.Count(r => r.Check.Contains("FAIL"));
}

var table = new StringBuilder();
table.AppendLine($"device: {cuda.Description}");
table.AppendLine($"date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
table.Append(summary);
if (rows.Count > 0)
{
    table.AppendLine("| group | case | µs/call | rate | check |");
    table.AppendLine("| --- | --- | ---: | --- | --- |");
    foreach (var r in rows) table.AppendLine($"| {r.Group} | {r.Case} | {r.Micros:F1} | {r.Rate} | {r.Check} |");
}
table.AppendLine(failed == 0 ? "ALL CHECKS PASSED" : $"{failed} FAILURES");
if (outDir is not null)
{
    Directory.CreateDirectory(outDir);
    File.WriteAllText(Path.Combine(outDir, "devicebench.md"), table.ToString());
}
Console.WriteLine();
Console.Write(table);
return failed == 0 ? 0 : 1;
