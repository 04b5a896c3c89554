using System.Globalization;
using System.Text;

namespace Fse.Eval.Running;

/// <summary>Running counts while a run is in progress, for progress displays.</summary>
public sealed class AccuracyTally(IReadOnlyList<string> filters, int total)
{
    private readonly int[] _correct = new int[filters.Count];

    public int Total { get; } = total;
    public int Done { get; private set; }
    public int Scored { get; private set; }
    public int Failed { get; private set; }

    public void Add(AccuracyItemOutcome outcome)
    {
        Done++;
        if (outcome.Failed) { Failed++; return; }
        Scored++;
        for (int i = 0; i < _correct.Length; i++) if (outcome.Scores[i].Correct) _correct[i]++;
    }

    /// <summary>The running accuracy of a filter (NaN before anything is scored).</summary>
    public double Accuracy(int filter) => Scored == 0 ? double.NaN : (double)_correct[filter] / Scored;

    public int PercentComplete => Total == 0 ? 100 : (int)(100L * Done / Total);

    /// <summary>e.g. "12/50 done; strict-match 0.7500, flexible-extract 0.8333; 1 failed".</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{Done}/{Total} done");
        if (Scored > 0)
            sb.Append("; ").AppendJoin(", ", filters.Select((f, i) => string.Create(CultureInfo.InvariantCulture, $"{f} {Accuracy(i):0.0000}")));
        if (Failed > 0) sb.Append(CultureInfo.InvariantCulture, $"; {Failed} failed");
        return sb.ToString();
    }
}
