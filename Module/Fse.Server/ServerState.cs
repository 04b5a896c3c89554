using Fse.Runtime.Serving;
using Fse.Runtime.Tokenization;
using Fse.Server.Metrics;

namespace Fse.Server;

/// <summary>What every endpoint of one server shares: its options, the served model, the engine and the metrics.</summary>
public sealed class ServerState(ServerOptions options, ServedModel model, InferenceEngine engine, ServerMetrics metrics)
{
    public ServerOptions Options { get; } = options;
    public ServedModel Model { get; } = model;
    public InferenceEngine Engine { get; } = engine;
    public ServerMetrics Metrics { get; } = metrics;
    public Tokenizer? Tokenizer => Model.Tokenizer;
    public string ServedName => Options.ServedName;
    public string Device => Engine.Device;
    public string Fse => Engine.Fse == global::Fse.Runtime.FseMode.On ? "on" : "off";

    /// <summary>Unix seconds of the start, the <c>created</c> of /v1/models.</summary>
    public long Created { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>The text a token stands for in log-probability listings (its raw text; "token_id:N" without a tokenizer).</summary>
    public string TokenText(int id) => Tokenizer is { } t && id < t.VocabSize ? SafeDecode(t, id) : $"token_id:{id}";

    private static string SafeDecode(Tokenizer t, int id)
    {
        try { return t.Decode([id]); }
        catch (Fse.Runtime.Checkpoints.CheckpointException) { return $"token_id:{id}"; }
    }
}
