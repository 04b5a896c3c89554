using Fse.Kernels.Cpu;
using Fse.Kernels.Cuda;
using Fse.Kernels.Profiling;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace Fse.Kernels.Tests;

/// <summary>
/// The parts a step graph is built from, on ILGPU's CPU accelerator (recording itself needs a CUDA device; the GPU check
/// compares replayed steps with eager ones): the buffer arena that keeps a graph's buffers to itself, and the recording
/// staging area whose regions a replay rewrites.
/// </summary>
public sealed class StepGraphPartsTests : IDisposable
{
    private readonly Context _context = Context.Create(b => b.CPU());
    private readonly Accelerator _acc;

    public StepGraphPartsTests() => _acc = _context.GetCPUDevice(0).CreateCPUAccelerator(_context);

    [Fact]
    public void BuffersRentedWhileRecordingStayWithTheirGraph()
    {
        using var pool = new BufferPool(_acc);
        var shared = pool.Rent(1000);
        pool.Return(shared);
        var arena = new BufferPool.Arena();
        pool.BeginCapture(arena);
        var a = pool.Rent(1000);
        Assert.NotSame(shared, a); // never the shared pool's buffer: someone else may hold it when the graph replays
        pool.Return(a);
        var b = pool.Rent(1000);
        Assert.Same(a, b); // reused among the recorded step's own ops
        pool.EndCapture();
        pool.Return(b);
        long reused = pool.Reused;
        var next = pool.Rent(1000);
        Assert.Same(shared, next); // the graph's buffer did not enter the shared pool
        Assert.NotSame(b, pool.Rent(1000));
        Assert.Equal(reused + 1, pool.Reused);
        Assert.Single(arena.Owned);
        pool.Release(arena);
        Assert.Empty(arena.Owned);
    }

    [Fact]
    public void ARecordingStagingAreaNamesEveryUploadAndRefusesAnUnnamedOne()
    {
        using var staging = new PinnedStaging(_acc, 1024);
        using var target = _acc.Allocate1D<int>(300);
        staging.Upload(target.View.SubView(0, 3), [7, 8, 9], StagedInput.TokenIds);
        staging.Upload(target.View.SubView(3, 2), [1, 2], StagedInput.Rope(64, 1e7f));
        staging.Reset(); // a recording area keeps its regions
        staging.Upload(target.View.SubView(5, 1), [4], StagedInput.BatchTables);
        Assert.Equal(new[] { (0L, 12, StagedInput.TokenIds), (256L, 8, StagedInput.Rope(64, 1e7f)), (512L, 4, StagedInput.BatchTables) }, staging.Recorded);
        Assert.Equal(new byte[] { 7, 0, 0, 0, 8, 0, 0, 0, 9, 0, 0, 0 }, staging.Region(0, 12).ToArray());
        Assert.Throws<StepCaptureException>(() => staging.Upload(target.View.SubView(6, 1), [5]));
        Assert.Throws<StepCaptureException>(() => staging.Upload(target.View, new int[300], StagedInput.LogitRows)); // past the area
    }

    [Fact]
    public void ReplayInputsAreTheTablesTheBatchUploads()
    {
        var batch = new SequenceBatch([0, 1, 2], [5, 6], [0, 1, 2, 3], 2, 4, [1, 0], [false, false]);
        var tables = DeviceBatch.Tables(batch);
        Assert.Equal(new[] { 0, 1, 2, 5, 6, 0, 1, 2, 3, 5, 14, 1, 0, 0, 0, 0, 1 }, tables);
        Assert.Equal(tables.Length * 4, DeviceBatch.Values(StagedInput.BatchTables, batch).Length);
        var rope = DeviceBatch.RopeTable(batch, 4, 10000f);
        Assert.Equal(MathF.Cos(6f * MathF.Pow(10000f, -0.5f)), rope[3], 5);
    }

    [Fact]
    public void TheProfilerRunsAStepOnABackendWithoutGraphsAsTheBackendWould()
    {
        using var cpu = new CpuBackend();
        var profiler = new ProfilingBackend(cpu);
        var output = new float[2 * 3];
        var batch = new SequenceBatch([0, 2], [0, 1], [0], 1, 4, [0], [true]);
        profiler.RunStep(this, [4, 5], [1, 0], 3, batch, (ids, rows, o) =>
        {
            var i = new int[2];
            cpu.Download(ids, i);
            var r = new int[2];
            cpu.Download(rows, r);
            using var v = cpu.Upload([(float)i[0], i[1], r[0], r[1], 10, 20], 2, 3);
            cpu.Add(v, v, o);
        }, output);
        Assert.Equal(new float[] { 8, 10, 2, 0, 20, 40 }, output);
    }

    public void Dispose()
    {
        _acc.Dispose();
        _context.Dispose();
    }
}
