using Fse.Kernels.Cuda;

namespace Fse.Kernels.Tests;

/// <summary>The CUDA backend's pool of freed device buffers, on ILGPU's CPU accelerator.</summary>
public sealed class BufferPoolTests(CudaSimulationFixture fixture) : IClassFixture<CudaSimulationFixture>
{
    [Fact]
    public void AFreedActivationBufferIsReusedAndComesBackZeroFilled()
    {
        var b = fixture.Backend;
        var rng = new Random(21);
        var data = Reference.Random(rng, 3 * 50);
        using (var first = b.Allocate(DType.F32, 3, 50))
        {
            using var x = b.Upload(data, 3, 50);
            b.Add(x, x, first);
            b.Synchronize();
        }
        long before = b.PooledAllocations;
        using var second = b.Allocate(DType.F32, 3, 50);
        Assert.Equal(before + 1, b.PooledAllocations);
        var back = new float[150];
        b.Download(second, back);
        Assert.All(back, v => Assert.Equal(0f, v));
    }

    [Fact]
    public unsafe void WeightsGetBuffersOfTheirOwnExactSize()
    {
        var b = fixture.Backend;
        var values = Reference.Random(new Random(22), 7 * 9);
        fixed (float* data = values)
        {
            var host = new HostTensor(DType.F32, [7, 9], data);
            using (b.Upload(host)) { }
            long before = b.PooledAllocations;
            using var w = b.Upload(host);
            Assert.Equal(before, b.PooledAllocations);
            var back = new float[values.Length];
            b.Download(w, back);
            Assert.Equal(values, back);
        }
    }

    /// <summary>A recording that fails after its ops rented buffers frees its arena; the tensors and tables still holding them return them later.</summary>
    [Fact]
    public void ABufferFreedWithItsGraphIsNeverPooledAgain()
    {
        using var context = ILGPU.Context.Create(c => ILGPU.Runtime.CPU.CPUContextExtensions.CPU(c));
        using var acc = ILGPU.Runtime.CPU.CPUContextExtensions.CreateCPUAccelerator(context, 0);
        using var pool = new BufferPool(acc);
        var arena = new BufferPool.Arena();
        pool.BeginCapture(arena);
        var rented = pool.Rent(1000);
        pool.Release(arena);
        pool.EndCapture();
        pool.Return(rented);
        Assert.Equal(0, pool.PooledBytes);
        var next = pool.Rent(1000);
        Assert.False(next.IsDisposed);
        Assert.Equal(BufferPool.SizeClass(1000), next.Length);
        next.Dispose();
    }

    [Theory]
    [InlineData(1, 256)]
    [InlineData(256, 256)]
    [InlineData(4097, 4608)]
    [InlineData(1_000_000, 1_048_576)]
    [InlineData(33_554_433, 37_748_736)]
    public void SizeClassesRoundUpByAtMostAnEighth(long bytes, long expected)
    {
        long size = BufferPool.SizeClass(bytes);
        Assert.Equal(expected, size);
        Assert.True(size >= bytes && (size <= 4096 || size - bytes <= size / 8));
    }
}
