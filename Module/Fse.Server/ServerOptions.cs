using System.Globalization;
using Fse.Kernels;
using Fse.Runtime;
using Fse.Runtime.Serving;

namespace Fse.Server;

/// <summary>A command line fse-server cannot run with (exit code 2).</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>fse-server's settings, from its command line (vLLM's option names where it has them).</summary>
public sealed record ServerOptions
{
    public const string ApiKeyEnvironmentVariable = "FSE_API_KEY";

    public required string Model { get; init; }
    public FseMode Fse { get; init; } = FseMode.On;
    public string Device { get; init; } = Devices.Auto;
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port; the address is printed once the server listens.</summary>
    public int Port { get; init; } = 8000;

    public string? ApiKey { get; init; }
    public string? ServedModelName { get; init; }
    public EngineOptions Engine { get; init; } = new();
    public PresetOptions Preset { get; init; } = new();

    /// <summary>Request bodies above this many bytes are refused with 413.</summary>
    public long MaxRequestBytes { get; init; } = 32L << 20;

    /// <summary>How long a SIGTERM waits for running requests before aborting them.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The share of a GPU's memory the server plans with (vLLM's --gpu-memory-utilization): the KV cache gets what the weights,
    /// states and workspace leave of it, unless --num-blocks or --kv-cache-memory fix its size.
    /// </summary>
    public double GpuMemoryUtilization { get; init; } = 0.9;

    /// <summary>Whether --kv-cache-memory was given (else, on a GPU, the memory plan sizes the KV cache).</summary>
    public bool KvCacheMemoryGiven { get; init; }

    /// <summary>Exit (gracefully) when this process ends: the PowerShell session that started the server.</summary>
    public int? ParentPid { get; init; }

    /// <summary>The id clients send as <c>model</c>: --served-model-name, else --model as given.</summary>
    public string ServedName => ServedModelName ?? Model;

    public static string Usage => """
        fse-server: an OpenAI-compatible server for one MoE model, with continuous batching.

        Usage: fse-server --model <checkpoint-dir|preset> [options]

          --model <dir|preset>           A hub-layout checkpoint directory, or a preset whose random weights are
                                         drawn in the backend's memory (on CUDA by the GPU; no files)
                                         (tiny-qwen3-next, tiny-qwen2-moe, tiny-glm4-moe, qwen3-next-80b-a3b, ...).
          --fse on|off                   Fused Shared Expert on or off (default on).
          --device auto|cpu|cuda         The backend (default auto).
          --host <address>               The address to listen on (default 127.0.0.1).
          --port <n>                     The port (default 8000; 0 picks a free one).
          --api-key <key>                Require 'Authorization: Bearer <key>' on /v1/* (or set FSE_API_KEY).
          --served-model-name <name>     The model id clients use (default: --model as given).
          --max-num-seqs <n>             Most sequences per step (default 256).
          --max-model-len <n>            Longest prompt + output (default: the model's max_position_embeddings).
          --max-num-batched-tokens <n>   Most tokens per step; longer prompts are prefilled in chunks (default 2048).
          --block-size <n>               Tokens per KV-cache block (default 16).
          --num-blocks <n>               KV-cache blocks (default: from --kv-cache-memory).
          --kv-cache-memory <bytes>      KV-cache memory, e.g. 268435456, 256MiB, 2GiB (default: on a GPU, what the memory
                                         plan leaves; on the CPU 256MiB).
          --gpu-memory-utilization <f>   The share of the GPU's memory to plan with (default 0.9): weights, sequence states
                                         and workspace first, the KV cache gets the rest; a plan that cannot hold one
                                         full-length sequence is refused before anything loads.
          --max-waiting-requests <n>     Refuse new requests with 429 while this many wait (default: no limit).
          --max-request-bytes <n>        Largest request body (default 32MiB); larger ones get 413.
          --shutdown-timeout <seconds>   Grace period for running requests on SIGTERM (default 10).
          --layers <n>                   Preset only: override the layer count.
          --seed <n>                     Preset only: the random-weight seed (default 0).
          --parent-pid <pid>             Shut down when that process exits.
          -h, --help                     This text.
        """;

    /// <summary>Parses the command line; null when help was asked for.</summary>
    /// <exception cref="UsageException">An unknown option, a missing or malformed value, or no --model.</exception>
    public static ServerOptions? Parse(IReadOnlyList<string> args, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a is "-h" or "--help") return null;
            if (!a.StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"Unexpected argument '{a}'.");
            string name, value;
            int eq = a.IndexOf('=');
            if (eq > 0)
            {
                name = a[2..eq];
                value = a[(eq + 1)..];
            }
            else
            {
                name = a[2..];
                if (i + 1 >= args.Count) throw new UsageException($"--{name} needs a value.");
                value = args[++i];
            }
            if (!Known.Contains(name)) throw new UsageException($"Unknown option --{name}.");
            if (!values.TryAdd(name, value)) throw new UsageException($"--{name} is given twice.");
        }
        if (!values.TryGetValue("model", out var model) || string.IsNullOrWhiteSpace(model)) throw new UsageException("--model is required.");
        var engine = new EngineOptions
        {
            MaxNumSeqs = Int(values, "max-num-seqs", 1) ?? 256,
            MaxModelLen = Int(values, "max-model-len", 2),
            MaxNumBatchedTokens = Int(values, "max-num-batched-tokens", 1) ?? 2048,
            BlockSize = Int(values, "block-size", 1) ?? 16,
            NumBlocks = Int(values, "num-blocks", 1),
            KvCacheBytes = values.TryGetValue("kv-cache-memory", out var kv) ? Bytes("kv-cache-memory", kv) : 256L << 20,
            MaxWaitingRequests = Int(values, "max-waiting-requests", 0),
        };
        return new ServerOptions
        {
            Model = model,
            Fse = values.TryGetValue("fse", out var fse) ? fse.Trim().ToLowerInvariant() switch
            {
                "on" or "true" or "1" => FseMode.On,
                "off" or "false" or "0" => FseMode.Off,
                _ => throw new UsageException($"--fse must be on or off, not '{fse}'."),
            } : FseMode.On,
            Device = values.TryGetValue("device", out var device) ? CheckDevice(device) : Devices.Auto,
            Host = values.GetValueOrDefault("host") ?? "127.0.0.1",
            Port = Int(values, "port", 0, 65535) ?? 8000,
            ApiKey = values.GetValueOrDefault("api-key") is { Length: > 0 } key ? key : environment(ApiKeyEnvironmentVariable) is { Length: > 0 } env ? env : null,
            ServedModelName = values.GetValueOrDefault("served-model-name") is { Length: > 0 } served ? served : null,
            Engine = engine,
            Preset = new PresetOptions { Layers = Int(values, "layers", 1), Seed = Int(values, "seed", int.MinValue) ?? 0 },
            MaxRequestBytes = values.TryGetValue("max-request-bytes", out var mrb) ? Bytes("max-request-bytes", mrb) : 32L << 20,
            ShutdownTimeout = TimeSpan.FromSeconds(Double(values, "shutdown-timeout") ?? 10),
            ParentPid = Int(values, "parent-pid", 1),
            GpuMemoryUtilization = Double(values, "gpu-memory-utilization") is { } u
                ? (u > 0 && u <= 1 ? u : throw new UsageException($"--gpu-memory-utilization must lie in (0, 1], not {u}."))
                : 0.9,
            KvCacheMemoryGiven = values.ContainsKey("kv-cache-memory"),
        };
    }

    private static readonly HashSet<string> Known =
    [
        "model", "fse", "device", "host", "port", "api-key", "served-model-name", "max-num-seqs", "max-model-len",
        "max-num-batched-tokens", "block-size", "num-blocks", "kv-cache-memory", "max-waiting-requests", "max-request-bytes",
        "shutdown-timeout", "layers", "seed", "parent-pid", "gpu-memory-utilization",
    ];

    private static string CheckDevice(string device)
    {
        try
        {
            Devices.Resolve(device);
            return device.Trim().ToLowerInvariant();
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message.Split(" (Parameter")[0]);
        }
    }

    private static int? Int(Dictionary<string, string> values, string name, int min, int max = int.MaxValue)
    {
        if (!values.TryGetValue(name, out var text)) return null;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            throw new UsageException($"--{name} must be an integer, not '{text}'.");
        if (v < min || v > max) throw new UsageException($"--{name} must be between {min} and {max}, not {v}.");
        return v;
    }

    private static double? Double(Dictionary<string, string> values, string name)
    {
        if (!values.TryGetValue(name, out var text)) return null;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !(v >= 0) || double.IsInfinity(v))
            throw new UsageException($"--{name} must be a number of seconds ≥ 0, not '{text}'.");
        return v;
    }

    /// <summary>A byte count: digits with an optional KiB/MiB/GiB (or K/M/G) suffix.</summary>
    public static long Bytes(string name, string text)
    {
        var t = text.Trim();
        long unit = 1;
        foreach (var (suffix, size) in (ReadOnlySpan<(string, long)>)[("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("K", 1L << 10), ("M", 1L << 20), ("G", 1L << 30)])
        {
            if (t.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                unit = size;
                t = t[..^suffix.Length].Trim();
                break;
            }
        }
        if (!long.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < 1 || v > long.MaxValue / unit)
            throw new UsageException($"--{name} must be a positive byte count such as 268435456 or 256MiB, not '{text}'.");
        return v * unit;
    }
}
