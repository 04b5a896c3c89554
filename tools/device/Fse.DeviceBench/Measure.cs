using System.Diagnostics;
using Fse.Kernels;
using Fse.Kernels.Cuda;

namespace Fse.DeviceBench;

/// <summary>One line of the result table.</summary>
internal sealed record Row(string Group, string Case, double Micros, string Rate, string Check);

internal static class Measure
{
    /// <summary>Calls per recorded step when <see cref="Graphed"/>.</summary>
    private const int GraphCalls = 20;

    private const int GraphReplays = 40;

    /// <summary>Whether <see cref="Micros"/> times calls inside a replayed step graph (on a backend that records them).</summary>
    public static bool Graphed { get; set; }

    /// <summary>
    /// Median over 5 batches of the host wall time per call, each batch enough back-to-back calls for ~20 ms and one
    /// synchronisation at its end, after two warm-up calls: launch overhead included, as an eager step sees it. When
    /// <see cref="Graphed"/>, the device time per call inside a replayed step graph instead (<see cref="GraphMicros"/>).
    /// </summary>
    public static double Micros(IBackend b, Action<int> op, SequenceBatch? batch = null)
    {
        if (Graphed && b is CudaBackend { SupportsStepGraphs: true } cuda) return GraphMicros(cuda, op, batch);
        op(0);
        op(1);
        b.Synchronize();
        var sw = Stopwatch.StartNew();
        op(2);
        b.Synchronize();
        double one = sw.Elapsed.TotalMilliseconds;
        int n = Math.Clamp((int)(20 / Math.Max(one, 1e-3)), 3, 2000);
        var samples = new double[5];
        for (int r = 0; r < samples.Length; r++)
        {
            sw.Restart();
            for (int i = 0; i < n; i++) op(i);
            b.Synchronize();
            samples[r] = sw.Elapsed.TotalMilliseconds * 1000 / n;
        }
        Array.Sort(samples);
        return samples[2];
    }

    /// <summary>
    /// Time per call of <paramref name="op"/>(i) as a decode step sees it: <paramref name="calls"/> calls recorded as one
    /// step graph, replayed; the median replay time less that of a step of one almost empty kernel, over the calls. NaN
    /// when the calls cannot be recorded (they read results back mid-step).
    /// </summary>
    public static double GraphMicros(CudaBackend b, Action<int> op, SequenceBatch? batch = null, int calls = GraphCalls)
    {
        double empty = EmptyStepMicros(b, batch);
        long replays = b.StepGraphReplays;
        double full = StepMicros(b, () => { for (int i = 0; i < calls; i++) op(i); }, batch);
        return b.StepGraphReplays > replays ? (full - empty) / calls : double.NaN;
    }

    /// <summary>A replayed step of one almost empty kernel: the replay, the wait and the output's download.</summary>
    public static double EmptyStepMicros(CudaBackend b, SequenceBatch? batch = null)
    {
        using var one = b.Upload([1f], 1);
        return StepMicros(b, () => b.Add(one, one, one), batch);
    }

    /// <summary>
    /// Median wall time of a replayed step of <paramref name="batch"/> (default: one token) running <paramref name="ops"/>
    /// (recorded afresh for this call), whose output of <paramref name="columns"/> floats per sequence is downloaded.
    /// </summary>
    public static double StepMicros(CudaBackend cuda, Action ops, SequenceBatch? batch = null, int columns = 1)
    {
        var owner = new object();
        batch ??= SequenceBatch.Single(1, 1, 16, 1);
        var rows = Enumerable.Range(0, batch.SequenceCount).ToArray();
        var ids = new int[batch.TokenCount];
        var output = new float[rows.Length * columns];
        void Step() => cuda.RunStep(owner, ids, rows, columns, batch, (_, _, _) => ops(), output);
        for (int i = 0; i < 3; i++) Step();
        var samples = new double[GraphReplays];
        var sw = new Stopwatch();
        for (int i = 0; i < GraphReplays; i++)
        {
            sw.Restart();
            Step();
            samples[i] = sw.Elapsed.TotalMilliseconds * 1000;
        }
        Array.Sort(samples);
        return samples[GraphReplays / 2];
    }

    /// <summary>Host time per call to enqueue <paramref name="op"/> (no wait): what the CPU spends on each op, the launch cost included.</summary>
    public static double HostMicros(IBackend b, Action<int> op)
    {
        op(0);
        b.Synchronize();
        const int n = 100;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < n; i++) op(i);
        double us = sw.Elapsed.TotalMilliseconds * 1000 / n;
        b.Synchronize();
        return us;
    }

    /// <summary>‖got − want‖ / ‖want‖ in double; NaN when anything is NaN.</summary>
    public static double RelativeError(ReadOnlySpan<float> got, ReadOnlySpan<float> want)
    {
        double num = 0, den = 0;
        for (int i = 0; i < want.Length; i++)
        {
            double d = got[i] - (double)want[i];
            num += d * d;
            den += (double)want[i] * want[i];
        }
        return Math.Sqrt(num / Math.Max(den, 1e-300));
    }

    public static float[] Get(IBackend b, Tensor t)
    {
        var a = new float[t.ElementCount];
        b.Download(t, a);
        return a;
    }

    public static string Err(double e, double limit) => double.IsNaN(e) || e > limit ? $"FAIL rel {e:E1}" : $"ok rel {e:E1}";
}
