using Fse.Kernels.Cpu;
using Fse.Kernels.Cuda;

namespace Fse.Kernels.Tests;

/// <summary>A CPU-accelerator backend with 32-lane warps, which the single-token down kernel is written for.</summary>
public sealed class CudaSimulation32Fixture : IDisposable
{
    public CudaBackend Backend { get; } = CudaBackend.CreateCpuSimulation32();

    public void Dispose() => Backend.Dispose();
}

/// <summary>
/// The one-token expert pass with <see cref="Cuda.Device.MoeSingleTokenKernel"/> as its down pass (a warp per column
/// loading every slot's row at once, or a warp per slot loading four columns' rows) against the CPU backend's expert
/// pass on the same drawn weights.
/// </summary>
public sealed class SingleTokenExpertKernelTests(CudaSimulation32Fixture fixture) : IClassFixture<CudaSimulation32Fixture>
{
    [Theory]
    [InlineData(DType.BF16, 64, 40, 3, false)]    // rows of 5 chunks: lanes past the row hold nothing
    [InlineData(DType.F16, 16, 264, 2, false)]    // rows of 33 chunks: lane 0 holds a chunk in both halves
    [InlineData(DType.BF16, 16, 8, 12, false)]    // twelve slots, the most the kernel holds
    [InlineData(DType.BF16, 16, 16, 11, false)]   // eleven, as Qwen3-Next with FSE (ten routed and the shared slot)
    [InlineData(DType.BF16, 64, 40, 3, true)]     // by slot: fewer slots than the group's warps
    [InlineData(DType.F16, 24, 264, 2, true)]     // by slot: rows of 33 chunks, six groups of four columns
    [InlineData(DType.BF16, 16, 16, 11, true)]    // by slot: eleven slots over four warps
    public void OneTokenMatchesTheCpuBackendLaunchAfterLaunch(DType dtype, int h, int width, int per, bool bySlot)
    {
        var sim = fixture.Backend;
        Assert.True(sim.HasSingleTokenDown);
        var saved = sim.Options;
        sim.Options = saved with { MoeDownBySlot = bySlot };
        try { OneToken(sim, dtype, h, width, per); }
        finally { sim.Options = saved; }
    }

    private static void OneToken(CudaBackend sim, DType dtype, int h, int width, int per)
    {
        using var cpu = new CpuBackend();
        int slots = per + 2;
        var matrices = Enumerable.Range(0, slots).Select(s => new ExpertSlot(
            RandomMatrix.Whole(dtype, width, h, (ulong)(300 + 3 * s), 0.2f),
            RandomMatrix.Whole(dtype, width, h, (ulong)(301 + 3 * s), 0.2f),
            RandomMatrix.Whole(dtype, h, width, (ulong)(302 + 3 * s), 0.2f))).ToArray();
        using var simSet = sim.CreateExpertSet(matrices);
        using var cpuSet = cpu.CreateExpertSet(matrices);
        var rng = new Random(h + width + per);
        // Three passes, each with fresh inputs and ids.
        for (int round = 0; round < 3; round++)
        {
            var x = Reference.Random(rng, h, 2f);
            var ids = Enumerable.Range(0, slots).OrderBy(_ => rng.Next()).Take(per).ToArray();
            var w = Reference.Random(rng, per);
            var got = Run(sim, simSet, x, ids, w);
            var want = Run(cpu, cpuSet, x, ids, w);
            double scale = want.Max(v => Math.Abs(v));
            Assert.True(scale > 0);
            for (int c = 0; c < h; c++)
                Assert.True(Math.Abs(got[c] - want[c]) <= 1e-5 * scale, $"{dtype} h={h} width={width} slots={per} round {round} column {c}: {got[c]} vs {want[c]}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnExpertIdOutsideTheSetIsReported(bool bySlot)
    {
        var sim = fixture.Backend;
        var saved = sim.Options;
        sim.Options = saved with { MoeDownBySlot = bySlot };
        try { OutOfRange(sim); }
        finally { sim.Options = saved; }
    }

    private static void OutOfRange(CudaBackend sim)
    {
        var slot = new ExpertSlot(RandomMatrix.Whole(DType.BF16, 16, 16, 1, 0.2f), RandomMatrix.Whole(DType.BF16, 16, 16, 2, 0.2f), RandomMatrix.Whole(DType.BF16, 16, 16, 3, 0.2f));
        using var set = sim.CreateExpertSet([slot, slot]);
        var error = Assert.ThrowsAny<InvalidOperationException>(() => Run(sim, set, Reference.Random(new Random(4), 16), [1, 2], [0.5f, 0.5f]));
        Assert.Contains("expert id outside the expert set", error.Message);
        // The missing slot was skipped, not read: the pass still runs, and slot order does not matter.
        Assert.Equal(Run(sim, set, [.. Enumerable.Repeat(1f, 16)], [0, 1], [1f, 0f]), Run(sim, set, [.. Enumerable.Repeat(1f, 16)], [1, 0], [0f, 1f]));
    }

    private static float[] Run(IBackend b, ExpertSet set, float[] x, int[] ids, float[] weights)
    {
        int h = x.Length;
        using var xt = b.Upload(x, 1, h);
        using var it = b.Upload(ids, 1, ids.Length);
        using var wt = b.Upload(weights, 1, weights.Length);
        using var o = b.Allocate(DType.F32, 1, h);
        b.MoeExperts(xt, it, wt, set, o);
        var result = new float[h];
        b.Download(o, result);
        b.Synchronize();
        return result;
    }
}
