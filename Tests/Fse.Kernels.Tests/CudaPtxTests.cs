using System.Text.RegularExpressions;
using Fse.Kernels.Cuda;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Fse.Kernels.Tests;

/// <summary>
/// Compiles every kernel of the CUDA backend to PTX for the H100 (SM_90) without a GPU, so a kernel that the PTX backend
/// rejects fails here rather than on the device, and checks the code the hot kernels rely on.
/// </summary>
public sealed class CudaPtxTests
{
    private static readonly Lazy<Dictionary<string, string>> Ptx = new(CompileAll);
    private static readonly HashSet<string> TriggerAfterWait = [];

    private static Dictionary<string, string> CompileAll()
    {
        using var backend = CudaBackend.CreateCpuSimulation();
        using var context = Context.Create(b => b.Cuda().EnableAlgorithms().Optimize(OptimizationLevel.O2));
        using var ptx = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null);
        var result = new Dictionary<string, string>();
        foreach (var method in backend.KernelMethods)
        {
            var compiled = (PTXCompiledKernel)ptx.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(method), KernelSpecialization.Empty);
            result[Name(method)] = compiled.PTXAssembly;
            if (method.GetCustomAttributes(typeof(Fse.Kernels.Cuda.Device.TriggerAfterWaitAttribute), false).Length > 0) TriggerAfterWait.Add(Name(method));
        }
        return result;
    }

    private static string Name(System.Reflection.MethodInfo m) => KernelSet.NameOf(m);

    [Fact]
    public void EveryKernelCompilesForSm90()
    {
        var ptx = Ptx.Value;
        Assert.True(ptx.Count >= 30, $"only {ptx.Count} kernels");
        Assert.All(ptx, kv => Assert.Contains(".entry", kv.Value));
    }

    /// <summary>
    /// The kernels that place their own wait (<see cref="Device.GridDependency"/>): the GEMV after hinting its weights into
    /// L2, the one-token delta rule after loading its columns' state.
    /// </summary>
    private static readonly string[] HintingKernels =
    [
        "DeltaNetKernels.DeltaRuleWarp", "MatMulKernels.Gemv<F32Weights>", "MatMulKernels.Gemv<F16Weights>", "MatMulKernels.Gemv<Bf16Weights>",
    ];

    [Fact]
    public void ProgrammaticLaunchWaitsAtTheEntryOfEveryOtherKernelBeforeItTouchesMemory()
    {
        var own = Ptx.Value.Where(kv => kv.Value.Contains(ProgrammaticLaunch.WaitInstruction, StringComparison.Ordinal)).Select(kv => kv.Key).Order();
        Assert.Equal(HintingKernels.Order(), own);
        Assert.Equal(["MoeSingleTokenKernel.Down<Bf16Weights>", "MoeSingleTokenKernel.Down<F16Weights>", "MoeSingleTokenKernel.DownBySlot<Bf16Weights>", "MoeSingleTokenKernel.DownBySlot<F16Weights>", "NormKernels.AddRmsNorm", "NormKernels.RmsNorm"], TriggerAfterWait.Order());
        foreach (var (name, code) in Ptx.Value)
        {
            bool triggerFirst = !TriggerAfterWait.Contains(name);
            var rewritten = ProgrammaticLaunch.Enable(code, 90, triggerFirst);
            Assert.Contains(".target sm_90", rewritten);
            Assert.DoesNotContain(".target sm_80", rewritten);
            int entries = Regex.Matches(rewritten, @"\.entry ").Count;
            Assert.True(entries == Regex.Matches(rewritten, Regex.Escape(ProgrammaticLaunch.WaitInstruction)).Count, $"{name}: {entries} entries, waits differ");
            Assert.True(entries == Regex.Matches(rewritten, Regex.Escape(ProgrammaticLaunch.TriggerInstruction)).Count, $"{name}: {entries} entries, triggers differ");
            Assert.Equal(ProgrammaticLaunch.Disable(code).Replace("\t\n", ""), ProgrammaticLaunch.Disable(rewritten).Replace("\t\n", "").Replace(".target sm_90", ".target sm_80"));
            if (HintingKernels.Contains(name)) continue;
            // Inserted at the top of the entry block: nothing runs before it but parameter loads.
            var entry = rewritten[rewritten.IndexOf(".entry", StringComparison.Ordinal)..];
            var beforeWait = entry[..entry.IndexOf(ProgrammaticLaunch.WaitInstruction, StringComparison.Ordinal)];
            Assert.True(triggerFirst == beforeWait.Contains(ProgrammaticLaunch.TriggerInstruction, StringComparison.Ordinal), $"{name}: trigger on the wrong side of the wait");
            foreach (var touch in new[] { "ld.", "st.", "atom.", "red.", "bar.", "bra", "prefetch" })
                Assert.True(!beforeWait.Contains(touch, StringComparison.Ordinal), $"{name}: {touch} before the wait");
        }
    }

    [Theory]
    [InlineData("MatMulKernels.Gemv<Bf16Weights>")]
    [InlineData("MatMulKernels.Gemv<F16Weights>")]
    public void WeightStreamingKernelsHintTheirWeightsIntoL2AndTriggerAfterTheirWait(string kernel)
    {
        var code = Ptx.Value[kernel];
        Assert.Contains("prefetch.global.L2", code);
        int wait = code.IndexOf(ProgrammaticLaunch.WaitInstruction, StringComparison.Ordinal);
        Assert.True(code.IndexOf(ProgrammaticLaunch.TriggerInstruction, StringComparison.Ordinal) > wait);
        Assert.Matches(new Regex(@"ld\.global(\.nc)?\.v4"), code);
    }

    [Fact]
    public void TheRegisterDeltaRulePlacesOneTriggerAndOneWaitItself()
    {
        // ILGPU lays out the blocks in its own order, so this checks what is there: one trigger (the kernel's first
        // statement), one wait, and nothing added by the rewrite.
        var code = Ptx.Value["DeltaNetKernels.DeltaRuleWarp"];
        Assert.Single(Regex.Matches(code, Regex.Escape(ProgrammaticLaunch.TriggerInstruction)));
        Assert.Single(Regex.Matches(code, Regex.Escape(ProgrammaticLaunch.WaitInstruction)));
        Assert.Equal(code.Replace(".target sm_80", ".target sm_90"), ProgrammaticLaunch.Enable(code, 90, triggerFirst: true));
    }

    [Fact]
    public void ProgrammaticLaunchRefusesOldDevicesAndInstructionSets()
    {
        var code = Ptx.Value["ElementwiseKernels.Add"];
        Assert.Throws<ArgumentOutOfRangeException>(() => ProgrammaticLaunch.Enable(code, 80, true));
        Assert.Throws<FormatException>(() => ProgrammaticLaunch.Enable(Regex.Replace(code, @"\.version \d+\.\d+", ".version 7.7"), 90, true));
        Assert.Throws<FormatException>(() => ProgrammaticLaunch.Enable(code.Replace(".target", ".tar get"), 90, true));
    }

    [Theory]
    [InlineData("MatMulKernels.Gemv<Bf16Weights>")]
    [InlineData("MatMulKernels.Gemv<F16Weights>")]
    [InlineData("MatMulKernels.Gemv<F32Weights>")]
    [InlineData("MoeKernels.DownFourRows<Bf16Weights>")]
    [InlineData("MoeKernels.GateUpTwoRows<Bf16Weights>")]
    [InlineData("MoeKernels.GateUpDirect<Bf16Weights>")]
    [InlineData("MoeKernels.DownCombineDirect<Bf16Weights>")]
    [InlineData("SamplingKernels.ArgMax")]
    [InlineData("MoeSingleTokenKernel.Down<Bf16Weights>")]
    [InlineData("MoeSingleTokenKernel.DownBySlot<Bf16Weights>")]
    public void WeightStreamingKernelsUse128BitLoadsAndShuffles(string kernel)
    {
        var code = Ptx.Value[kernel];
        Assert.Matches(new Regex(@"ld\.global(\.nc)?\.v4\.(b|u)32"), code);
        Assert.Contains("shfl.sync.bfly", code);
        Assert.DoesNotContain("ld.local", code);
    }

    [Theory]
    [InlineData("MatMulKernels.Tiled<Bf16Weights>")]
    [InlineData("DeltaNetKernels.DeltaRule")]
    [InlineData("AttentionKernels.Attend")]
    [InlineData("RoutingKernels.Softmax")]
    public void SharedMemoryKernelsKeepTheirStateOutOfLocalMemory(string kernel)
    {
        var code = Ptx.Value[kernel];
        Assert.Contains("ld.shared", code);
        Assert.DoesNotContain("ld.local", code);
        Assert.DoesNotContain("st.local", code);
    }

    [Fact]
    public void TheRegisterDeltaRuleKeepsItsStateInRegisters()
    {
        var code = Ptx.Value["DeltaNetKernels.DeltaRuleWarp"];
        Assert.Contains("shfl.sync.bfly", code);
        Assert.DoesNotContain("ld.local", code);
        Assert.DoesNotContain("st.local", code);
        Assert.DoesNotContain(".shared", code);
    }
}
