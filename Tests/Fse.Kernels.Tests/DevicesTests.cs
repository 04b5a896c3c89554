using Fse.Kernels.Cuda;

namespace Fse.Kernels.Tests;

public class DevicesTests
{
    [Theory]
    [InlineData("CPU")]
    [InlineData(" cpu ")]
    public void CpuGivesTheCpuBackend(string name)
    {
        using var backend = Devices.Create(name);
        Assert.Equal("cpu", backend.Name);
    }

    [Fact]
    public void AutoTakesCudaOnlyWhenADeviceIsPresent()
    {
        string expected = CudaBackend.IsCudaAvailable ? "cuda" : "cpu";
        Assert.Equal(expected, Devices.Resolve("auto"));
        using var backend = Devices.Create("Auto");
        Assert.Equal(expected, backend.Name);
    }

    [Fact]
    public void CudaWithoutADeviceSaysWhy()
    {
        Assert.Equal("cuda", Devices.Resolve("Cuda"));
        if (CudaBackend.IsCudaAvailable) return;
        var e = Assert.Throws<NotSupportedException>(() => Devices.Create("cuda"));
        Assert.Contains("No CUDA device", e.Message);
    }

    [Fact]
    public void AnUnknownDeviceListsTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => Devices.Create("tpu"));
        Assert.Contains("auto, cpu, cuda", e.Message);
    }
}
