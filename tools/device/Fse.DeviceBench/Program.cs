using System.Globalization;
using System.Text;
using Fse.DeviceBench;
using Fse.Kernels.Cpu;
using Fse.Kernels.Cuda;

// Fse.DeviceBench [contract|bench|all|parity|model] [--out DIR] [--cpu-simulation]
// parity [--fixtures DIR]: CUDA vs CPU logits and greedy output on the HF fixtures;
// serve [--server DLL] [--model M] [--device D] [--isl ..] [--osl ..] [--concurrency ..] [--prompts-per-concurrency N] [--server-args "..."]:
//   the FSE off/on serving sweep through fse-server started per mode;
// profile [same options as model]: per-op times of a prefill and decode steps (FSE on), each op timed to completion;
// model [--preset P] [--layers N] [--isl N] [--osl N] [--batches 1,4,16,64] [--copy-tbps X]: TTFT and decode TPOT, FSE off vs on
// (--no-single-token-down, --no-argmax-parts, --no-attention-by-kv-head, --no-programmatic, --no-down-by-slot, --no-wide-combine,
// --no-head-norm: those CudaBackendOptions off, for a same-call baseline; also for graphs and profile;
// --kv-head-groups X: attention by KV head from X groups per multiprocessor; --partition-keys N: keys per attention partition;
// --moe-tile-rows N: pairs per tile of the prefill's expert GEMMs; --delta-rule auto|recurrent|chunked: the Gated DeltaNet
// form the model's layers ask for; --delta-chunk N: tokens per chunk of the chunked form, 0 for the recurrent kernels everywhere).
// graphs [same options as model]: decode steps replayed from step graphs against eager steps (logits and step times).
// graphed [--copy-tbps X]: the weight-streaming kernels of a batch-1 decode step, an almost empty kernel and norms before a
//   GEMV, timed inside replayed step graphs, each with the graph's edges plain and programmatic.
// kernels [--groups 256,352,512]: registers, spilled bytes and groups per multiprocessor of every loaded kernel.
// contract: the BackendContract against the CUDA backend in three MatMul configurations (default, every MatMul through
// cuBLAS, every MatMul through the tiled kernel); bench [--graphed]: the kernel micro-benchmarks (--graphed: µs per call
// inside a replayed step graph, as a decode step sees it, instead of at the host's launch rate). Prints a table last and exits
// non-zero when a contract case or a benchmark check failed.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string mode = args.FirstOrDefault(a => !a.StartsWith("--")) ?? "all";
string? outDir = args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault();
bool simulate = args.Contains("--cpu-simulation");
Measure.Graphed = args.Contains("--graphed");

double MeasureCopy()
{
    // The card's copy bandwidth, measured in this run: the baseline the decode bandwidth is quoted against.
    if (simulate || args.Contains("--cpu")) return 3.0;
    using var gpu = CudaBackend.CreateCuda();
    using var cpuRef = new CpuBackend();
    using var hostWeights = new HostWeights();
    double tbs = new Benchmarks(gpu, cpuRef, hostWeights, BenchSizes.Gpu).CopyBandwidth();
    Console.WriteLine($"device copy: {tbs:F2} TB/s");
    return tbs;
}

string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
int IntArg(string name, int fallback) => Arg(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

if (mode == "serve")
{
    var settings = new ServeSweep.Settings(
        Arg("--server") ?? ".gpu/server/fse-server.dll",
        Arg("--model") ?? "qwen3-next-80b-a3b",
        Arg("--device") ?? "cuda",
        (Arg("--isl") ?? "1000").Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray(),
        (Arg("--osl") ?? "100").Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray(),
        (Arg("--concurrency") ?? "4,16,64").Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray(),
        IntArg("--prompts-per-concurrency", 2),
        (Arg("--server-args") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries));
    var serveReport = await ServeSweep.RunAsync(settings);
    if (outDir is not null)
    {
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "serve.md"), serveReport);
    }
    Console.WriteLine();
    Console.Write(serveReport);
    return 0;
}

if (mode is "model" or "parity" or "profile" or "graphs")
{
    bool plainCpu = args.Contains("--cpu");
    if (!simulate && !plainCpu && !CudaBackend.IsCudaAvailable)
    {
        Console.Error.WriteLine("No CUDA device: run on the GPU machine, or pass --cpu-simulation (the CUDA kernels on ILGPU's CPU accelerator) or --cpu (the CPU backend, to check the harness).");
        return 2;
    }
    Func<Fse.Kernels.IBackend> device = plainCpu ? () => new CpuBackend() : simulate ? CudaBackend.CreateCpuSimulation : () => CudaBackend.CreateCuda();
    bool noSingleTokenDown = args.Contains("--no-single-token-down"), noArgMaxParts = args.Contains("--no-argmax-parts");
    bool noKvHeadAttention = args.Contains("--no-attention-by-kv-head"), noProgrammatic = args.Contains("--no-programmatic");
    bool noDownBySlot = args.Contains("--no-down-by-slot"), noWideCombine = args.Contains("--no-wide-combine");
    bool noHeadNorm = args.Contains("--no-head-norm");
    string? kvHeadGroups = Arg("--kv-head-groups");
    if (!plainCpu)
    {
        // Without switches every option keeps its default.
        var make = device;
        device = () =>
        {
            var b = (CudaBackend)make();
            b.Options = b.Options with
            {
                MoeSingleTokenDown = b.Options.MoeSingleTokenDown && !noSingleTokenDown,
                ArgMaxInParts = b.Options.ArgMaxInParts && !noArgMaxParts,
                AttentionByKvHead = b.Options.AttentionByKvHead && !noKvHeadAttention,
                ProgrammaticLaunch = b.Options.ProgrammaticLaunch && !noProgrammatic,
                MoeDownBySlot = b.Options.MoeDownBySlot && !noDownBySlot,
                AttentionWideCombine = b.Options.AttentionWideCombine && !noWideCombine,
                DeltaRuleHeadNorm = b.Options.DeltaRuleHeadNorm && !noHeadNorm,
                AttentionByKvHeadMinGroupsPerMultiprocessor = kvHeadGroups is null ? b.Options.AttentionByKvHeadMinGroupsPerMultiprocessor : double.Parse(kvHeadGroups, CultureInfo.InvariantCulture),
                AttentionPartitionKeys = IntArg("--partition-keys", b.Options.AttentionPartitionKeys),
                MoeGemmTileRows = IntArg("--moe-tile-rows", b.Options.MoeGemmTileRows),
                DeltaRuleChunkTokens = IntArg("--delta-chunk", b.Options.DeltaRuleChunkTokens),
            };
            return b;
        };
    }
    string report;
    int failures = 0;
    if (mode == "parity")
    {
        (report, failures) = ParityRun.Run(device, Arg("--fixtures") ?? "Tests/Fixtures/parity");
    }
    else
    {
        var settings = new ModelBench.Settings(
            Arg("--preset") ?? "qwen3-next-80b-a3b",
            IntArg("--layers", 12),
            IntArg("--isl", 1000),
            IntArg("--osl", 100),
            (Arg("--batches") ?? "1,4,16,64").Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray(),
            Arg("--copy-tbps") is { } tb ? double.Parse(tb, CultureInfo.InvariantCulture) : MeasureCopy(),
            Arg("--delta-rule") is { } form ? Enum.Parse<Fse.Kernels.DeltaRuleForm>(form, ignoreCase: true) : Fse.Kernels.DeltaRuleForm.Auto);
        if (mode == "graphs") (report, failures) = ModelBench.GraphCheck(device, settings);
        else report = mode == "profile" ? ModelBench.Profile(device, settings) : ModelBench.Run(device, settings);
    }
    if (outDir is not null)
    {
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, $"{mode}.md"), report);
    }
    Console.WriteLine();
    Console.Write(report);
    return failures == 0 ? 0 : 1;
}

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
        ("all MatMul, BF16 experts and fresh prompts via cuBLAS", new CudaBackendOptions { GemvMaxTokens = 0, CublasMinTokens = 1, MoeCublasMinTokens = 1, MoeGemmSplitTerms = 3, DenseAttentionMinTokens = 1 }),
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
    Step("attention prefill", () => bench.AttentionPrefill(simulate ? 20 : 1000));
    foreach (int b in sizes.DeltaBatches) Step($"deltanet B={b}", () => bench.DeltaNetDecode(b));
    foreach (var (b, n) in simulate ? new[] { (1, 8), (2, 4) } : [(1, 1000), (8, 125), (1, 250)])
        Step($"deltanet prefill {b}x{n}", () => bench.DeltaNetDecode(b, n));
    rows.AddRange(bench.Rows);
    failed += rows.Count(r => r.Check.Contains("FAIL"));
}

if (mode is "kernels")
{
    // Registers, spills and groups per multiprocessor of every kernel at the group sizes the decode steps launch.
    foreach (int group in (Arg("--groups") ?? "256,352,512").Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)))
    {
        summary.AppendLine($"kernels at {group} threads a group: name | registers | local bytes | static shared | max threads | groups per SM");
        foreach (var k in cuda.KernelResources(group))
            summary.AppendLine($"| {k.Name} | {k.Registers} | {k.LocalBytes} | {k.StaticSharedBytes} | {k.MaxThreadsPerGroup} | {k.GroupsPerMultiprocessor} |");
    }
}

if (mode is "graphed")
{
    double copyTbs = Arg("--copy-tbps") is { } tb ? double.Parse(tb, CultureInfo.InvariantCulture) : 3.0;
    rows.AddRange(GraphedKernels.Run(cuda, copyTbs));
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
