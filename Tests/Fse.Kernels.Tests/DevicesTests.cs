namespace Fse.Kernels.Tests;

public class DevicesTests
{
    [Fact]
    public void CpuAndAutoWorkWithoutAGpuAndCudaSaysWhy()
    {
        using (var cpu = Devices.Create("cpu")) Assert.Equal("cpu", cpu.Name);
        using (var auto = Devices.Create("Auto")) Assert.Equal(Cuda.CudaBackend.IsCudaAvailable ? "cuda" : "cpu", auto.Name);
        if (!Cuda.CudaBackend.IsCudaAvailable)
            Assert.Contains("No CUDA device", Assert.Throws<NotSupportedException>(() => Devices.Create("cuda")).Message);
        Assert.Throws<ArgumentException>(() => Devices.Create("tpu"));
    }
}
