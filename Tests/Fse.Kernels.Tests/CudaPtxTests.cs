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
        }
        return result;
    }

    private static string Name(System.Reflection.MethodInfo m) =>
        m.DeclaringType!.Name + "." + m.Name + (m.IsGenericMethod ? "<" + m.GetGenericArguments()[0].Name + ">" : "");

    [Fact]
    public void EveryKernelCompilesForSm90()
    {
        var ptx = Ptx.Value;
        Assert.True(ptx.Count >= 30, $"only {ptx.Count} kernels");
        Assert.All(ptx, kv => Assert.Contains(".entry", kv.Value));
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
