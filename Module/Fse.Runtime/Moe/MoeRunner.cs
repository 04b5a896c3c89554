using Fse.Kernels;
using Fse.Runtime.Models;

namespace Fse.Runtime.Moe;

/// <summary>
/// Executes the experts a router chose: one grouped expert kernel over the expert slots. With FSE on, the shared
/// expert is among those slots and nothing else runs; with FSE off, the shared MLP and its sigmoid gate (Qwen) run
/// as separate kernels and are added after (the baseline).
/// </summary>
public sealed class MoeRunner
{
    private readonly ExpertSet _experts;
    private readonly DenseMlp? _sharedMlp;
    private readonly Tensor? _sharedGate;

    internal MoeRunner(ExpertSet experts, DenseMlp? sharedMlp, Tensor? sharedGate)
    {
        _experts = experts;
        _sharedMlp = sharedMlp;
        _sharedGate = sharedGate;
    }

    /// <summary>Expert slots in the grouped kernel: E routed, plus the shared-expert slots under FSE.</summary>
    public int Slots => _experts.Slots;

    /// <summary>Whether a separate shared MLP runs after the grouped kernel (FSE off).</summary>
    public bool RunsSharedSeparately => _sharedMlp is not null;

    internal void Run(Tensor x, Tensor ids, Tensor weights, Tensor output, Scratch s)
    {
        var b = s.Backend;
        b.MoeExperts(x, ids, weights, _experts, output);
        if (_sharedMlp is null) return;
        int t = checked((int)x.Rows);
        var shared = s.F32(t, x.Dim(-1));
        _sharedMlp.Forward(x, shared, s);
        if (_sharedGate is not null)
        {
            var gate = s.F32(t, 1);
            b.MatMul(x, _sharedGate, null, gate);
            b.SigmoidScaleAdd(output, shared, gate);
        }
        else
        {
            b.Add(output, shared, output);
        }
    }
}
