using Fse.Kernels;
using Fse.Kernels.Cpu;
using Fse.Kernels.Cuda;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Models;
using Fse.Runtime.Presets;
using Fse.Runtime.Tests.Models;
using Fse.Runtime.Weights;

namespace Fse.Runtime.Tests.Presets;

/// <summary>
/// A preset's weight matrices reach the backend as draws (<see cref="RandomMatrix"/>) that it makes in its own memory,
/// through the same weight plan (FSE slots, fused router gate, projection row orders) as a checkpoint's bytes.
/// </summary>
public class PresetDrawTests
{
    [Theory]
    [InlineData(ModelPresets.TinyQwen3Next, FseMode.On, "bfloat16")]
    [InlineData(ModelPresets.TinyQwen3Next, FseMode.Off, "float16")]
    [InlineData(ModelPresets.TinyQwen2Moe, FseMode.On, "float32")] // shared width 80 = 32 + 32 + 16: the last FSE slot is padded
    [InlineData(ModelPresets.TinyQwen2Moe, FseMode.Off, "bfloat16")]
    [InlineData(ModelPresets.TinyGlm4Moe, FseMode.On, "bfloat16")]
    [InlineData(ModelPresets.TinyGlm4Moe, FseMode.Off, "float32")]
    public void DrawnWeightsGiveExactlyTheLogitsOfGeneratedBytes(string preset, FseMode fse, string dtype)
    {
        using var drawn = new PresetSource(preset, seed: 21, dtype: dtype);
        using var generated = new PresetSource(preset, seed: 21, dtype: dtype);
        var c = drawn.Config;
        var tokens = ModelHarness.RandomTokens(7, c.VocabSize, seed: 4);
        float[][] fromDraws, fromBytes;
        using (var model = CausalLm.Load(c, drawn, new CpuBackend(), fse)) fromDraws = ModelHarness.Prefill(model, tokens);
        using (var model = CausalLm.Load(c, new BytesOnly(generated), new CpuBackend(), fse)) fromBytes = ModelHarness.Prefill(model, tokens);
        for (int i = 0; i < tokens.Length; i++) Assert.Equal(fromBytes[i], fromDraws[i]);

        // Only the small tensors (norms, biases, conv and DeltaNet parameters) were generated on the host.
        Assert.True(drawn.BytesGenerated * 20 < ParameterCount.Bytes(c), $"{drawn.BytesGenerated} of {ParameterCount.Bytes(c)} bytes generated on the host");
        Assert.True(generated.BytesGenerated >= ParameterCount.Bytes(c) - drawn.BytesGenerated);
    }

    [Fact]
    public void APresetDrawnByTheDeviceKernelsMatchesTheCpu()
    {
        using var source = new PresetSource(ModelPresets.TinyQwen2Moe, layers: 2, seed: 8, dtype: "bfloat16");
        var c = source.Config;
        var tokens = ModelHarness.RandomTokens(5, c.VocabSize, seed: 6);
        float[][] cpu, device;
        using (var model = CausalLm.Load(c, source, new CpuBackend(), FseMode.On)) cpu = ModelHarness.Prefill(model, tokens);
        long hostBytes = source.BytesGenerated;
        using (var backend = CudaBackend.CreateCpuSimulation())
        using (var model = CausalLm.Load(c, source, backend, FseMode.On))
            device = ModelHarness.Prefill(model, tokens);
        Assert.Equal(hostBytes, source.BytesGenerated); // the device drew every matrix itself
        for (int i = 0; i < tokens.Length; i++)
        {
            Assert.True(ModelHarness.RelativeL2(device[i], cpu[i]) < 1e-5, $"position {i}: relative L2 {ModelHarness.RelativeL2(device[i], cpu[i])}");
            Assert.Equal(Array.IndexOf(cpu[i], cpu[i].Max()), Array.IndexOf(device[i], device[i].Max()));
        }
    }

    /// <summary>The same tensors offered only as host bytes, as a checkpoint offers them.</summary>
    private sealed class BytesOnly(ITensorSource inner) : ITensorSource
    {
        public string Location => inner.Location;
        public bool TryGet(string name, out HostTensor tensor) => inner.TryGet(name, out tensor);
    }
}
