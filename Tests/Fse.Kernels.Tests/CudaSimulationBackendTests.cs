using Fse.Kernels.Cuda;

namespace Fse.Kernels.Tests;

/// <summary>One CPU-accelerator backend for the whole class: compiling the kernels takes longer than most tests.</summary>
public sealed class CudaSimulationFixture : IDisposable
{
    public CudaBackend Backend { get; } = CudaBackend.CreateCpuSimulation();

    public void Dispose() => Backend.Dispose();
}

/// <summary>The contract on the CUDA backend's kernels, run by ILGPU's CPU accelerator (no GPU needed).</summary>
public sealed class CudaSimulationBackendTests(CudaSimulationFixture fixture) : BackendContract, IClassFixture<CudaSimulationFixture>
{
    protected override IBackend CreateBackend() => new BorrowedBackend(fixture.Backend);

    [Fact]
    public void DescriptionNamesTheAcceleratorAndTheMatMulFallback()
    {
        Assert.Equal("cuda", fixture.Backend.Name);
        Assert.Contains("CPU accelerator", fixture.Backend.Description);
        Assert.Contains("tiled kernel", fixture.Backend.Description);
        Assert.False(fixture.Backend.HasCublas);
        Assert.False(fixture.Backend.HasSingleTokenDown);   // 4-lane warps: the few-token down kernel runs instead
    }
}

/// <summary>
/// A second CPU-accelerator backend whose options send every MatMul through the tiled kernel, split attention into 4-key
/// partitions, keep one-token DeltaNet steps on the warp-per-column delta rule (the H100's path below ~66 sequences) and
/// cut the chunked delta rule into chunks of 3 tokens (short sequences then span several, the last one partial).
/// </summary>
public sealed class CudaSimulationAlternateFixture : IDisposable
{
    public CudaBackend Backend { get; } = CudaBackend.CreateCpuSimulation();

    public CudaSimulationAlternateFixture() => Backend.Options = new CudaBackendOptions { GemvMaxTokens = 0, AttentionPartitionKeys = 4, DeltaRuleHeadNorm = false, DeltaRuleChunkTokens = 3 };

    public void Dispose() => Backend.Dispose();
}

/// <summary>The contract again on the kernels' other paths: the tiled matmul for every token count, partitioned (flash-decoding) attention, one-token DeltaNet steps on the warp-per-column delta rule, 3-token delta-rule chunks.</summary>
public sealed class CudaSimulationAlternatePathsTests(CudaSimulationAlternateFixture fixture) : BackendContract, IClassFixture<CudaSimulationAlternateFixture>
{
    protected override IBackend CreateBackend() => new BorrowedBackend(fixture.Backend);
}

/// <summary>An <see cref="IBackend"/> that forwards to another and leaves it alive when disposed.</summary>
public sealed class BorrowedBackend(IBackend inner) : IBackend
{
    public string Name => inner.Name;
    public long? MemoryBytes => inner.MemoryBytes;
    public Tensor Allocate(DType dtype, params int[] shape) => inner.Allocate(dtype, shape);
    public Tensor Empty(DType dtype, params int[] shape) => inner.Empty(dtype, shape);
    public Tensor Upload(HostTensor source) => inner.Upload(source);
    public Tensor Upload(RandomMatrix source, int[]? shape = null) => inner.Upload(source, shape);
    public Tensor Upload(ReadOnlySpan<float> data, params int[] shape) => inner.Upload(data, shape);
    public Tensor Upload(ReadOnlySpan<int> data, params int[] shape) => inner.Upload(data, shape);
    public void Download(Tensor source, Span<float> destination) => inner.Download(source, destination);
    public void Download(Tensor source, Span<int> destination) => inner.Download(source, destination);
    public void Synchronize() => inner.Synchronize();
    public ExpertSet CreateExpertSet(IReadOnlyList<ExpertSlot> slots) => inner.CreateExpertSet(slots);
    public void Embedding(Tensor ids, Tensor table, Tensor output) => inner.Embedding(ids, table, output);
    public void ArgMax(Tensor x, Tensor output) => inner.ArgMax(x, output);
    public void RmsNorm(Tensor x, Tensor weight, Tensor output, float eps, bool unitOffset) => inner.RmsNorm(x, weight, output, eps, unitOffset);
    public void Add(Tensor a, Tensor b, Tensor output) => inner.Add(a, b, output);
    public void AddRmsNorm(Tensor residual, Tensor delta, Tensor weight, Tensor output, float eps, bool unitOffset) => inner.AddRmsNorm(residual, delta, weight, output, eps, unitOffset);
    public void MatMul(Tensor x, Tensor weight, Tensor? bias, Tensor output) => inner.MatMul(x, weight, bias, output);
    public void MatMulSplit(Tensor x, Tensor weight, Tensor? bias, IReadOnlyList<Tensor> outputs) => inner.MatMulSplit(x, weight, bias, outputs);
    public void SiluMul(Tensor gate, Tensor up, Tensor output) => inner.SiluMul(gate, up, output);
    public void SigmoidMul(Tensor x, Tensor gate, Tensor output) => inner.SigmoidMul(x, gate, output);
    public void SigmoidScaleAdd(Tensor output, Tensor x, Tensor gateLogit) => inner.SigmoidScaleAdd(output, x, gateLogit);
    public void Rope(Tensor x, SequenceBatch batch, int rotaryDim, float theta) => inner.Rope(x, batch, rotaryDim, theta);
    public void NormRopeQueryKey(Tensor q, Tensor k, Tensor? queryNorm, Tensor? keyNorm, float eps, bool unitOffset, SequenceBatch batch, int rotaryDim, float theta) =>
        inner.NormRopeQueryKey(q, k, queryNorm, keyNorm, eps, unitOffset, batch, rotaryDim, theta);
    public void PagedAttention(Tensor q, Tensor k, Tensor v, Tensor keyCache, Tensor valueCache, SequenceBatch batch, float scale, Tensor output) =>
        inner.PagedAttention(q, k, v, keyCache, valueCache, batch, scale, output);
    public void GatedDeltaNet(GatedDeltaNetArgs args, SequenceBatch batch) => inner.GatedDeltaNet(args, batch);
    public void RouteSoftmax(Tensor logits, int experts, int topK, bool renormalize, int sharedSlots, Tensor ids, Tensor weights) =>
        inner.RouteSoftmax(logits, experts, topK, renormalize, sharedSlots, ids, weights);
    public void RouteSigmoidGrouped(Tensor logits, Tensor bias, int topK, int groups, int topkGroups, bool renormalize, float scale, int sharedSlots, Tensor ids, Tensor weights) =>
        inner.RouteSigmoidGrouped(logits, bias, topK, groups, topkGroups, renormalize, scale, sharedSlots, ids, weights);
    public void MoeExperts(Tensor x, Tensor ids, Tensor weights, ExpertSet experts, Tensor output) => inner.MoeExperts(x, ids, weights, experts, output);
    public void Dispose() { }
}
