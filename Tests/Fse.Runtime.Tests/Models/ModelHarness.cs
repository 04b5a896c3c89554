using Fse.Kernels;
using Fse.Kernels.Cpu;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Models;

namespace Fse.Runtime.Tests.Models;

/// <summary>Runs a model over a whole prompt at once, or token by token, and returns logits per position.</summary>
internal static class ModelHarness
{
    public const int BlockSize = 4;

    public static float[][] Prefill(CausalLm model, int[] tokens)
    {
        using var state = new ModelState(model.Config, model.Backend, Blocks(tokens.Length), BlockSize, 1);
        var batch = SequenceBatch.Single(0, tokens.Length, BlockSize, Blocks(tokens.Length));
        var rows = Enumerable.Range(0, tokens.Length).ToArray();
        var logits = new float[tokens.Length * model.Config.VocabSize];
        model.Forward(tokens, batch, state, rows, logits);
        return Split(logits, model.Config.VocabSize);
    }

    public static float[][] Decode(CausalLm model, int[] tokens, int chunk = 1)
    {
        using var state = new ModelState(model.Config, model.Backend, Blocks(tokens.Length), BlockSize, 1);
        var result = new List<float[]>();
        for (int start = 0; start < tokens.Length; start += chunk)
        {
            int n = Math.Min(chunk, tokens.Length - start);
            var batch = SequenceBatch.Single(start, n, BlockSize, Blocks(tokens.Length));
            var logits = new float[n * model.Config.VocabSize];
            model.Forward(tokens.AsSpan(start, n), batch, state, Enumerable.Range(0, n).ToArray(), logits);
            result.AddRange(Split(logits, model.Config.VocabSize));
        }
        return [.. result];
    }

    public static int Blocks(int tokens) => (tokens + BlockSize - 1) / BlockSize;

    public static float[][] Split(float[] flat, int width) =>
        Enumerable.Range(0, flat.Length / width).Select(i => flat.AsSpan(i * width, width).ToArray()).ToArray();

    public static double RelativeL2(float[] a, float[] b)
    {
        double num = 0, den = 0;
        for (int i = 0; i < a.Length; i++)
        {
            num += (a[i] - (double)b[i]) * (a[i] - (double)b[i]);
            den += (double)b[i] * b[i];
        }
        return Math.Sqrt(num / Math.Max(den, 1e-30));
    }

    public static int[] RandomTokens(int count, int vocab, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => rng.Next(vocab)).ToArray();
    }

    public static CausalLm Load(ModelConfig c, RandomCheckpoint source, FseMode fse) => CausalLm.Load(c, source, new CpuBackend(), fse);
}
