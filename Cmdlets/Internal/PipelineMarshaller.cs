using System.Collections.Concurrent;

namespace Fse.Cmdlets.Internal;

/// <summary>
/// Runs async engine work on the thread pool and hands what it produces (results, progress, warnings) to the
/// pipeline thread, the only thread allowed to call WriteObject/WriteProgress. <see cref="Drain"/> blocks the pipeline
/// thread until the work ends and then rethrows the work's exception, if any.
/// </summary>
internal sealed class PipelineMarshaller : IDisposable
{
    private readonly BlockingCollection<object> _queue = new();
    private Task? _work;

    /// <summary>Queues an item from any thread; items posted after the work ended are dropped.</summary>
    public void Post(object item)
    {
        try { _queue.TryAdd(item); }
        catch (InvalidOperationException) { }   // completed (the work is over) or disposed
    }

    public void Start(Func<PipelineMarshaller, Task> work)
    {
        _work = Task.Run(async () =>
        {
            try { await work(this).ConfigureAwait(false); }
            finally { _queue.CompleteAdding(); }
        });
    }

    /// <summary>Calls <paramref name="handle"/> on this (pipeline) thread for every item until the work ends, then rethrows its failure.</summary>
    public void Drain(Action<object> handle)
    {
        foreach (var item in _queue.GetConsumingEnumerable()) handle(item);
        _work!.GetAwaiter().GetResult();
    }

    /// <summary>Waits for the work to end after the pipeline thread left <see cref="Drain"/> early (a downstream stop).</summary>
    public void WaitQuietly()
    {
        try { _work?.Wait(); }
        catch (AggregateException) { }
    }

    public void Dispose() => _queue.Dispose();
}
