using System.Diagnostics;
using Fse.Kernels;
using Fse.Runtime.Models;
using Fse.Runtime.Moe;

namespace Fse.Runtime.Inference;

/// <summary>What one generation produced and how long its parts took.</summary>
public sealed record GenerationResult(int[] PromptTokenIds, int[] TokenIds, string FinishReason, TimeSpan PrefillTime, TimeSpan DecodeTime)
{
    /// <summary>Decode tokens per second after the first token (0 when fewer than two tokens).</summary>
    public double DecodeTokensPerSecond => TokenIds.Length > 1 && DecodeTime > TimeSpan.Zero ? (TokenIds.Length - 1) / DecodeTime.TotalSeconds : 0;
}

/// <summary>
/// Single-sequence generation on a loaded model: one prefill step over the prompt, then one decode step per token.
/// (The server's scheduler batches many sequences; this is for cmdlets, tests and benchmarks of one stream.)
/// </summary>
public sealed class Generator(CausalLm model, int blockSize = 16)
{
    public CausalLm Model => model;

    /// <summary>Logits for every position of <paramref name="tokens"/> from one prefill step: [positions][vocab].</summary>
    public float[][] Logits(int[] tokens, IRoutingObserver? observer = null)
    {
        if (tokens.Length == 0) throw new ArgumentException("At least one token is needed.", nameof(tokens));
        int v = model.Config.VocabSize, blocks = (tokens.Length + blockSize - 1) / blockSize;
        using var state = new ModelState(model.Config, model.Backend, blocks, blockSize, 1);
        var logits = new float[(long)tokens.Length * v];
        model.Forward(tokens, SequenceBatch.Single(0, tokens.Length, blockSize, blocks), state, Enumerable.Range(0, tokens.Length).ToArray(), logits, observer);
        return Enumerable.Range(0, tokens.Length).Select(i => logits.AsSpan(i * v, v).ToArray()).ToArray();
    }

    public GenerationResult Generate(int[] prompt, int maxTokens, SamplingParams sampling, IReadOnlyCollection<int> stopTokenIds,
        Action<int>? onToken = null, CancellationToken cancellationToken = default)
    {
        if (prompt.Length == 0) throw new ArgumentException("The prompt needs at least one token.", nameof(prompt));
        if (maxTokens < 1) throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, "At least one new token must be asked for.");
        var sampler = new Sampler(sampling);
        int v = model.Config.VocabSize, total = prompt.Length + maxTokens, blocks = (total + blockSize - 1) / blockSize;
        using var state = new ModelState(model.Config, model.Backend, blocks, blockSize, 1);
        var logits = sampler.IsGreedy ? [] : new float[v];
        var chosen = new int[1];
        // Greedy generation takes each token's arg-max on the device; sampling downloads the row of logits.
        int Step(int[] ids, int start)
        {
            var batch = SequenceBatch.Single(start, ids.Length, blockSize, blocks);
            if (sampler.IsGreedy)
            {
                model.ForwardGreedy(ids, batch, state, [ids.Length - 1], chosen);
                return chosen[0];
            }
            model.Forward(ids, batch, state, [ids.Length - 1], logits);
            return sampler.Next(logits);
        }
        var output = new List<int>(maxTokens);
        var clock = Stopwatch.StartNew();
        int next = Step(prompt, 0);
        var prefill = clock.Elapsed;
        string finish = "length";
        while (true)
        {
            output.Add(next);
            onToken?.Invoke(next);
            if (stopTokenIds.Contains(next)) { finish = "stop"; break; }
            if (output.Count == maxTokens) break;
            cancellationToken.ThrowIfCancellationRequested();
            next = Step([next], prompt.Length + output.Count - 1);
        }
        return new GenerationResult(prompt, [.. output], finish, prefill, clock.Elapsed - prefill);
    }
}
