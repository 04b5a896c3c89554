using System.Diagnostics;
using Fse.Kernels;

namespace Fse.DeviceBench;

/// <summary>One line of the result table.</summary>
internal sealed record Row(string Group, string Case, double Micros, string Rate, string Check);

internal static class Measure
{
    /// <summary>
    /// Median over 5 batches of the host wall time per call, each batch enough back-to-back calls for ~20 ms and one
    /// synchronisation at its end, after two warm-up calls: launch overhead included, as a decode step sees it.
    /// </summary>
    public static double Micros(IBackend b, Action<int> op)
    {
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
