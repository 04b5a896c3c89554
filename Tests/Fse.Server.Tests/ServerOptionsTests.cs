using Fse.Runtime;

namespace Fse.Server.Tests;

public class ServerOptionsTests
{
    [Fact]
    public void DefaultsFollowVllm()
    {
        var o = ServerOptions.Parse(["--model", "tiny-qwen3-next"], _ => null)!;
        Assert.Equal("tiny-qwen3-next", o.ServedName);
        Assert.Equal(FseMode.On, o.Fse);
        Assert.Equal("auto", o.Device);
        Assert.Equal("127.0.0.1", o.Host);
        Assert.Equal(8000, o.Port);
        Assert.Null(o.ApiKey);
        Assert.Equal(256, o.Engine.MaxNumSeqs);
        Assert.Equal(2048, o.Engine.MaxNumBatchedTokens);
        Assert.Null(o.Engine.MaxModelLen);
        Assert.Equal((0.9, false), (o.GpuMemoryUtilization, o.KvCacheMemoryGiven));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1.2")]
    [InlineData("-0.5")]
    public void TheGpuMemoryUtilizationMustBeAFraction(string value) =>
        Assert.Contains("gpu-memory-utilization", Assert.Throws<UsageException>(() => ServerOptions.Parse(["--model", "m", "--gpu-memory-utilization", value], _ => null)).Message);

    [Fact]
    public void EveryOptionIsRead()
    {
        var o = ServerOptions.Parse(
        [
            "--model=/m", "--fse", "off", "--device", "CPU", "--host", "0.0.0.0", "--port", "0", "--api-key", "k", "--served-model-name", "x",
            "--max-num-seqs", "8", "--max-model-len", "300", "--max-num-batched-tokens", "64", "--block-size", "8", "--num-blocks", "100",
            "--kv-cache-memory", "3MiB", "--max-waiting-requests", "5", "--max-request-bytes", "1K", "--shutdown-timeout", "2.5",
            "--layers", "2", "--seed", "-4", "--parent-pid", "77", "--gpu-memory-utilization", "0.5",
        ], _ => "from-env")!;
        Assert.Equal((0.5, true), (o.GpuMemoryUtilization, o.KvCacheMemoryGiven));
        Assert.Equal(("/m", FseMode.Off, "cpu", "0.0.0.0", 0, "k", "x"), (o.Model, o.Fse, o.Device, o.Host, o.Port, o.ApiKey, o.ServedName));
        Assert.Equal((8, 300, 64, 8, 100, 3L << 20, 5), (o.Engine.MaxNumSeqs, o.Engine.MaxModelLen, o.Engine.MaxNumBatchedTokens, o.Engine.BlockSize,
            o.Engine.NumBlocks, o.Engine.KvCacheBytes, o.Engine.MaxWaitingRequests));
        Assert.Equal((1024L, TimeSpan.FromSeconds(2.5), 2, -4, 77), (o.MaxRequestBytes, o.ShutdownTimeout, o.Preset.Layers, o.Preset.Seed, o.ParentPid));
    }

    [Fact]
    public void TheApiKeyMayComeFromTheEnvironment()
    {
        var o = ServerOptions.Parse(["--model", "m"], name => name == ServerOptions.ApiKeyEnvironmentVariable ? "secret" : null)!;
        Assert.Equal("secret", o.ApiKey);
    }

    [Theory]
    [InlineData("no --model")]
    [InlineData("--model", "m", "--bogus", "1")]
    [InlineData("--model", "m", "--port", "70000")]
    [InlineData("--model", "m", "--fse", "maybe")]
    [InlineData("--model", "m", "--device", "tpu")]
    [InlineData("--model", "m", "--max-num-seqs", "x")]
    [InlineData("--model", "m", "--kv-cache-memory", "-5")]
    [InlineData("--model", "m", "--model", "n")]
    [InlineData("--model")]
    public void BadCommandLinesAreUsageErrors(params string[] args)
    {
        var a = args[0] == "no --model" ? new[] { "--port", "1" } : args;
        Assert.Throws<UsageException>(() => ServerOptions.Parse(a, _ => null));
    }

    [Fact]
    public void HelpReturnsNull() => Assert.Null(ServerOptions.Parse(["--help"], _ => null));
}
