using Fse.Eval.Data;
using Fse.Eval.Sampling;
using Fse.Eval.Tasks;

namespace Fse.Eval.Prompting;

/// <summary>
/// lm-eval's few-shot samplers. <c>default</c> keeps ONE <c>random.Random(seed)</c> for the whole task and calls
/// <c>sample(fewshot_docs, n)</c> once per evaluated document in document order, so the examples of document i depend
/// on every draw before it. When the few-shot split is the evaluated split, it draws n + 1 and drops the evaluated
/// document (by field equality), keeping the first n; gsm8k draws from train and scores test, so it never does.
/// </summary>
public sealed class FewshotSampler
{
    private readonly IReadOnlyList<EvalDocument> _pool;
    private readonly FewshotSamplerKind _kind;
    private readonly bool _sameSplit;
    private readonly PythonRandom _random;

    public FewshotSampler(IReadOnlyList<EvalDocument> pool, FewshotSamplerKind kind, long seed, bool poolIsEvaluatedSplit)
    {
        _pool = pool;
        _kind = kind;
        _sameSplit = poolIsEvaluatedSplit;
        _random = new PythonRandom(seed);
    }

    /// <summary>The next document's n examples (advances the random stream for the default sampler).</summary>
    public IReadOnlyList<EvalDocument> Sample(int n, EvalDocument evaluated)
    {
        if (n == 0) return [];
        if (_kind == FewshotSamplerKind.FirstN)
        {
            var pool = _sameSplit ? _pool.Where(d => !d.Equals(evaluated)).ToList() : _pool;
            if (n > pool.Count) throw new EvalTaskException(EvalTaskErrorKind.MalformedData, $"{n} few-shot examples were asked for but only {pool.Count} are available.");
            return [.. pool.Take(n)];
        }
        if (!_sameSplit)
        {
            if (n > _pool.Count) throw new EvalTaskException(EvalTaskErrorKind.MalformedData, $"{n} few-shot examples were asked for but only {_pool.Count} are available.");
            return _random.Sample(_pool, n);
        }
        if (n + 1 > _pool.Count) throw new EvalTaskException(EvalTaskErrorKind.MalformedData, $"{n} few-shot examples (plus one to drop the evaluated document) were asked for but only {_pool.Count} are available.");
        return [.. _random.Sample(_pool, n + 1).Where(d => !d.Equals(evaluated)).Take(n)];
    }
}
