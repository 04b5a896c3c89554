using Fse.Kernels;

namespace Fse.Server.Tests.Engine;

public class DevicesTests
{
    [Theory]
    [InlineData("auto")]
    [InlineData("CPU")]
    [InlineData(" cpu ")]
    public void AutoAndCpuGiveTheCpuBackend(string name)
    {
        using var backend = Devices.Create(name);
        Assert.Equal("cpu", backend.Name);
    }

    [Fact]
    public void CudaSaysThisBuildHasNoCudaBackend()
    {
        var e = Assert.Throws<NotSupportedException>(() => Devices.Create("cuda"));
        Assert.Contains("no CUDA backend in this build", e.Message);
        Assert.Equal("cuda", Devices.Resolve("Cuda"));
    }

    [Fact]
    public void AnUnknownDeviceListsTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => Devices.Create("tpu"));
        Assert.Contains("auto, cpu, cuda", e.Message);
    }
}
