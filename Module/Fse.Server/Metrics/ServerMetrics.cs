using System.Collections.Concurrent;
using System.Diagnostics;
using Fse.Runtime.Serving;

namespace Fse.Server.Metrics;

/// <summary>
/// The server's Prometheus metrics under vLLM's names, so dashboards built for vLLM work. Engine gauges and totals
/// come from the engine's snapshot at each scrape; request histograms are observed when a request ends.
/// </summary>
public sealed class ServerMetrics
{
    private static readonly double[] LatencyBuckets =
        [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];
    private static readonly double[] ItlBuckets =
        [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];
    private static readonly double[] TokenBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

    private readonly InferenceEngine _engine;
    private readonly (string, string)[] _labels;
    private readonly ConcurrentDictionary<string, long> _finished = new(StringComparer.Ordinal);
    private readonly Histogram _ttft = new(LatencyBuckets), _itl = new(ItlBuckets), _e2e = new(LatencyBuckets), _queue = new(LatencyBuckets);
    private readonly Histogram _promptLen = new(TokenBuckets), _generationLen = new(TokenBuckets), _iterationTokens = new(TokenBuckets);

    public ServerMetrics(InferenceEngine engine, string modelName)
    {
        _engine = engine;
        _labels = [("model_name", modelName)];
        engine.StepCompleted += tokens => _iterationTokens.Observe(tokens);
    }

    public void ObserveInterTokenLatency(double seconds) => _itl.Observe(seconds);

    /// <summary>Records a finished request under its finish reason (stop, length, abort, error).</summary>
    public void RequestFinished(EngineSequence seq, int promptTokens, int completionTokens, string finishReason)
    {
        static double Seconds(long from, long to) => from == 0 || to == 0 ? double.NaN : (to - from) / (double)Stopwatch.Frequency;
        long end = seq.FinishedAt != 0 ? seq.FinishedAt : Stopwatch.GetTimestamp();
        _finished.AddOrUpdate(finishReason, 1, (_, n) => n + 1);
        _ttft.Observe(Seconds(seq.ArrivedAt, seq.FirstTokenAt));
        _e2e.Observe(Seconds(seq.ArrivedAt, end));
        _queue.Observe(Seconds(seq.ArrivedAt, seq.FirstScheduledAt));
        _promptLen.Observe(promptTokens);
        _generationLen.Observe(completionTokens);
    }

    /// <summary>The text a scrape of <c>/metrics</c> returns.</summary>
    public string Render()
    {
        var s = _engine.Stats;
        var t = new PrometheusText();
        void One(string name, string type, string help, double value)
        {
            t.Header(name, type, help);
            t.Sample(name, _labels, value);
        }
        void Hist(string name, string help, Histogram h)
        {
            t.Header(name, "histogram", help);
            h.Write(t, name, _labels);
        }
        One("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.", s.Running);
        One("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", s.Waiting);
        One("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.", s.KvCacheUsage);
        One("vllm:gpu_cache_usage_perc", "gauge", "KV-cache usage (vLLM's name before 0.10). 1 means 100 percent usage.", s.KvCacheUsage);
        One("vllm:num_preemptions_total", "counter", "Cumulative number of preemptions from the engine.", s.Preemptions);
        One("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.", s.PromptTokens);
        One("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.", s.GenerationTokens);
        t.Header("vllm:request_success_total", "counter", "Count of processed requests by finish reason.");
        foreach (var reason in (string[])["stop", "length", "abort", "error"])
            t.Sample("vllm:request_success_total", [.. _labels, ("finished_reason", reason)], _finished.GetValueOrDefault(reason));
        Hist("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", _ttft);
        Hist("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", _itl);
        Hist("vllm:time_per_output_token_seconds", "Histogram of time per output token in seconds (vLLM's name before 0.11).", _itl);
        Hist("vllm:e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.", _e2e);
        Hist("vllm:request_queue_time_seconds", "Histogram of time spent waiting in the queue in seconds.", _queue);
        Hist("vllm:request_prompt_tokens", "Number of prefill tokens processed per request.", _promptLen);
        Hist("vllm:request_generation_tokens", "Number of generation tokens processed per request.", _generationLen);
        Hist("vllm:iteration_tokens_total", "Histogram of number of tokens per engine step.", _iterationTokens);
        One("fse:kv_cache_blocks", "gauge", "KV-cache blocks allocated.", s.TotalBlocks);
        One("fse:kv_cache_blocks_used", "gauge", "KV-cache blocks in use.", s.UsedBlocks);
        One("fse:state_slots_used", "gauge", "Linear-attention state slots in use.", s.UsedStateSlots);
        One("fse:recomputed_tokens_total", "counter", "Tokens recomputed after preemption.", s.RecomputedTokens);
        One("fse:engine_steps_total", "counter", "Forward steps run.", s.Steps);
        One("fse:engine_failed_steps_total", "counter", "Forward steps that failed.", s.FailedSteps);
        One("fse:step_graphs_recorded_total", "counter", "Forward steps recorded into a new CUDA graph (one per new decode shape).", s.StepGraphsRecorded);
        One("fse:step_graph_replays_total", "counter", "Forward steps run by replaying a recorded CUDA graph.", s.StepGraphReplays);
        One("fse:engine_healthy", "gauge", "1 while the engine loop runs.", s.Healthy ? 1 : 0);
        return t.ToString();
    }
}
