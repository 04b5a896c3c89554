using System.Diagnostics;
using Fse.Kernels;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Fse.Server;

/// <summary>
/// fse-server's entry point: parse the command line, load the model, listen, print
/// <c>fse-server listening on http://host:port</c> once ready, and run until SIGTERM/SIGINT (exit 0). A bad command line
/// exits 2; a model, device or address that cannot be used exits 1, with the reason on stderr as
/// <c>fse-server: error: ...</c>.
/// </summary>
public static class ServerMain
{
    public const string ListeningPrefix = "fse-server listening on ";
    public const string ErrorPrefix = "fse-server: error: ";

    public static async Task<int> RunAsync(string[] args)
    {
        ServerOptions? options;
        try
        {
            options = ServerOptions.Parse(args);
        }
        catch (UsageException e)
        {
            await Console.Error.WriteLineAsync(ErrorPrefix + e.Message + " (fse-server --help lists the options)").ConfigureAwait(false);
            return 2;
        }
        if (options is null)
        {
            Console.WriteLine(ServerOptions.Usage);
            return 0;
        }

        var clock = Stopwatch.StartNew();
        ServedModel model;
        try
        {
            var config = ModelConfigFor(options);
            options.Engine.Validate(config);
            var backend = Devices.Create(options.Device);
            if (backend.MemoryBytes is { } deviceBytes)
            {
                // On a GPU the memory is planned before any weight loads; an impossible plan stops here.
                var plan = MemoryPlan.Create(config, options.Fse, options.Engine, deviceBytes, options.GpuMemoryUtilization);
                Console.WriteLine($"fse-server: memory plan: {plan}");
                if (options.Engine.NumBlocks is null)
                {
                    int blocks = options.KvCacheMemoryGiven ? options.Engine.ResolveNumBlocks(config) : plan.NumBlocks;
                    if (blocks > plan.NumBlocks)
                        throw new MemoryPlanException($"--kv-cache-memory asks for {blocks} KV blocks, but the memory plan leaves room for {plan.NumBlocks}: {plan}.");
                    options = options with { Engine = options.Engine with { NumBlocks = blocks } };
                }
                else if (options.Engine.NumBlocks > plan.NumBlocks)
                {
                    throw new MemoryPlanException($"--num-blocks {options.Engine.NumBlocks} does not fit: the memory plan leaves room for {plan.NumBlocks} blocks: {plan}.");
                }
            }
            model = ServedModel.Load(options.Model, options.Fse, backend, options.Preset);
        }
        catch (Exception e) when (e is CheckpointException or ArgumentException or NotSupportedException or IOException or UnauthorizedAccessException or MemoryPlanException)
        {
            return Fail($"cannot serve '{options.Model}': {FirstLine(e.Message)}");
        }

        WebApplication app;
        try
        {
            app = FseServerApp.Build(options, model, ownsModel: true, logging => logging
                .AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "yyyy-MM-dd HH:mm:ss ";
                    o.ColorBehavior = LoggerColorBehavior.Disabled;
                })
                .SetMinimumLevel(LogLevel.Information)
                .AddFilter("Microsoft", LogLevel.Warning));
        }
        catch (ArgumentException e)
        {
            model.Dispose();
            return Fail(FirstLine(e.Message));
        }

        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            return Fail($"cannot listen on {options.Host}:{options.Port}: {FirstLine(e.Message)}");
        }

        var state = FseServerApp.State(app);
        var address = FseServerApp.Address(app);
        Console.WriteLine($"fse-server: serving '{options.ServedName}' ({state.Model.Config.ModelType}, fse {state.Fse}, device {state.Device}, " +
                          $"max-model-len {state.Engine.MaxModelLen}, {state.Engine.NumBlocks} KV blocks) after {clock.Elapsed.TotalSeconds:0.0} s");
        Console.WriteLine(ListeningPrefix + address);
        Console.Out.Flush();
        await app.WaitForShutdownAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
        Console.WriteLine("fse-server: stopped");
        return 0;
    }

    /// <summary>The config the engine limits are checked against before the weights load (fails fast on bad limits).</summary>
    private static ModelConfig ModelConfigFor(ServerOptions options)
    {
        if (Directory.Exists(options.Model)) return ModelConfig.Load(options.Model);
        if (Fse.Runtime.Presets.ModelPresets.TryGet(options.Model, out var preset)) return preset.Config(options.Preset.Layers);
        if (Fse.Runtime.BundledModels.TryResolve(options.Model, out var bundled)) return ModelConfig.Load(bundled);
        throw new ArgumentException(
            $"it is neither a checkpoint directory, a preset nor a model shipped with the module ('{Fse.Runtime.BundledModels.Default}'; presets: {string.Join(", ", Fse.Runtime.Presets.ModelPresets.Names)}).");
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine(ErrorPrefix + message);
        Console.Error.Flush();
        return 1;
    }

    private static string FirstLine(string message) => message.Split(" (Parameter '")[0].Trim();
}
