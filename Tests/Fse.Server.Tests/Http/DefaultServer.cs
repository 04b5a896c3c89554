using Fse.Server.Tests.Engine;

namespace Fse.Server.Tests.Http;

/// <summary>One fse-server on tiny-qwen3-next (seed 0) per test class, plus the same weights for reference computations.</summary>
public sealed class DefaultServer : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;
    public TinyModel Reference { get; } = new();

    public async Task InitializeAsync() => Server = await TestServer.StartAsync();

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Reference.Dispose();
    }
}
