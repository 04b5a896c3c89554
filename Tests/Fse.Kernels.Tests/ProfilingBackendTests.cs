using Fse.Kernels.Cpu;
using Fse.Kernels.Profiling;

namespace Fse.Kernels.Tests;

public sealed class ProfilingBackendTests
{
    [Fact]
    public void OpsGiveTheInnerBackendsResultsAndAreCountedByOpAndWeightShape()
    {
        var rng = new Random(23);
        using var p = new ProfilingBackend(new CpuBackend());
        var xData = Reference.Random(rng, 4 * 16);
        var wData = Reference.Random(rng, 8 * 16);
        using var x = p.Upload(xData, 4, 16);
        using var w = p.Upload(wData, 8, 16);
        using var y = p.Allocate(DType.F32, 4, 8);
        p.MatMul(x, w, null, y);
        p.MatMul(x, w, null, y);
        p.Add(y, y, y);
        var got = new float[32];
        p.Download(y, got);

        using var cpu = new CpuBackend();
        using var cx = cpu.Upload(xData, 4, 16);
        using var cw = cpu.Upload(wData, 8, 16);
        using var cy = cpu.Allocate(DType.F32, 4, 8);
        cpu.MatMul(cx, cw, null, cy);
        cpu.Add(cy, cy, cy);
        var want = new float[32];
        cpu.Download(cy, want);
        Assert.Equal(want, got);

        var timings = p.Timings;
        Assert.Equal(2, timings.Single(t => t.Op == "MatMul 8x16 F32, T=4").Calls);
        Assert.Equal(1, timings.Single(t => t.Op == "Add").Calls);
        Assert.All(timings, t => Assert.True(t.TotalMs >= 0));
        p.Reset();
        Assert.Empty(p.Timings);
    }

    [Fact]
    public void OnTheSimulatedCudaBackendOpsAreTimedToCompletion()
    {
        var rng = new Random(24);
        using var p = new ProfilingBackend(Fse.Kernels.Cuda.CudaBackend.CreateCpuSimulation());
        Assert.False(p.DeviceTimes);
        var data = Reference.Random(rng, 64);
        using var x = p.Upload(data, 4, 16);
        using var y = p.Allocate(DType.F32, 4, 16);
        for (int i = 0; i < 3; i++) p.Add(x, x, y);
        var got = new float[64];
        p.Download(y, got);
        Assert.Equal(data.Select(v => v + v).ToArray(), got);
        var add = Assert.Single(p.Timings, t => t.Op == "Add");
        Assert.Equal(3, add.Calls);
        Assert.True(add.TotalMs >= 0 && add.HostMs >= 0);
        Assert.Equal(1, Assert.Single(p.Timings, t => t.Op.StartsWith("Allocate")).Calls);
    }
}
