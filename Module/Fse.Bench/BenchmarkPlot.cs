using System.Globalization;
using ScottPlot;

namespace Fse.Bench;

/// <summary>
/// Draws benchmark results as a PNG with two panels against concurrency (log₂ axis, ticks at the measured values):
/// output throughput (tok/s) and mean TPOT (ms); one line per FSE mode and ISL/OSL pair (and per label or request
/// rate when the results hold several).
/// </summary>
public static class BenchmarkPlot
{
    public static void SavePng(string path, IEnumerable<FseBenchmarkResult> results, int width = 1400, int height = 560, string? title = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 200);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 150);
        var list = results.ToList();
        if (list.Count == 0) throw new ArgumentException("There is no result to plot.", nameof(results));
        SkiaNativeLibraries.EnsureResolvable();

        bool byLabel = list.Select(r => r.Label).Distinct().Count() > 1;
        bool byRate = list.Select(r => r.RequestRate).Distinct().Count() > 1;
        var series = list
            .GroupBy(r => (r.Fse, r.InputLength, r.OutputLength, Label: byLabel ? r.Label : null, Rate: byRate ? r.RequestRate : double.NaN))
            .OrderBy(g => g.Key.InputLength).ThenBy(g => g.Key.OutputLength).ThenBy(g => g.Key.Fse, StringComparer.Ordinal).ThenBy(g => g.Key.Label, StringComparer.Ordinal).ThenBy(g => g.Key.Rate)
            .ToList();
        var concurrencies = list.Select(r => r.MaxConcurrency).Distinct().Order().ToArray();

        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var throughput = multiplot.GetPlot(0);
        var tpot = multiplot.GetPlot(1);
        Style(throughput, "Output throughput", "Output tok/s", concurrencies, title);
        Style(tpot, "Mean TPOT", "TPOT (ms)", concurrencies, null);

        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < series.Count; i++)
        {
            var points = series[i].OrderBy(r => r.MaxConcurrency).ToArray();
            var xs = points.Select(r => Math.Log2(r.MaxConcurrency)).ToArray();
            var name = Name(series[i].Key.Fse, series[i].Key.InputLength, series[i].Key.OutputLength, series[i].Key.Label, series[i].Key.Rate);
            var color = palette.GetColor(i);
            var pattern = series[i].Key.Fse == "Off" ? LinePattern.Dashed : LinePattern.Solid;
            Line(throughput, xs, [.. points.Select(r => r.OutputThroughput)], name, color, pattern);
            Line(tpot, xs, [.. points.Select(r => r.MeanTpotMs)], name, color, pattern);
        }
        FromZero(throughput, list.Select(r => r.OutputThroughput));
        FromZero(tpot, list.Select(r => r.MeanTpotMs));
        throughput.ShowLegend(Alignment.UpperLeft);
        tpot.ShowLegend(Alignment.UpperLeft);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        multiplot.SavePng(path, width, height);
    }

    private static void Style(Plot plot, string panel, string yLabel, int[] concurrencies, string? title)
    {
        plot.Title(title is null ? panel : $"{title}: {panel}");
        plot.XLabel("Max concurrency");
        plot.YLabel(yLabel);
        plot.Axes.Bottom.SetTicks([.. concurrencies.Select(c => Math.Log2(c))], [.. concurrencies.Select(c => c.ToString(CultureInfo.InvariantCulture))]);
        double lo = Math.Log2(concurrencies[0]), hi = Math.Log2(concurrencies[^1]);
        double pad = Math.Max(0.25, (hi - lo) * 0.05);
        plot.Axes.SetLimitsX(lo - pad, hi + pad);
    }

    /// <summary>Both quantities are compared as ratios (off vs on), so the y axis starts at zero rather than zooming into a small difference.</summary>
    private static void FromZero(Plot plot, IEnumerable<double> values)
    {
        double max = values.Where(double.IsFinite).DefaultIfEmpty(1).Max();
        plot.Axes.SetLimitsY(0, max > 0 ? max * 1.15 : 1);
    }

    private static void Line(Plot plot, double[] xs, double[] ys, string name, Color color, LinePattern pattern)
    {
        // NaN (no completed request, or no TPOT) leaves a gap rather than a false zero.
        var scatter = plot.Add.Scatter(xs, ys.Select(y => double.IsFinite(y) ? y : double.NaN).ToArray());
        scatter.LegendText = name;
        scatter.Color = color;
        scatter.LinePattern = pattern;
        scatter.LineWidth = 2;
        scatter.MarkerSize = 7;
    }

    private static string Name(string? fse, int isl, int osl, string? label, double rate) =>
        $"FSE {fse ?? "?"} {isl}/{osl}" + (label is null ? "" : $" {label}") + (double.IsNaN(rate) ? "" : double.IsPositiveInfinity(rate) ? " rate inf" : $" rate {rate.ToString("0.###", CultureInfo.InvariantCulture)}");
}
