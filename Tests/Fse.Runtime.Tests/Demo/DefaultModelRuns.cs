using Fse.Eval.Prompting;
using Fse.Eval.Tasks;
using Fse.Kernels.Cpu;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Inference;
using Fse.Runtime.Models;
using Fse.Runtime.Moe;
using Fse.Runtime.Tokenization;
using Fse.Runtime.Weights;

namespace Fse.Runtime.Tests.Demo;

/// <summary>
/// The arith accuracy check of the default model on the CPU, run once for the test class: FSE off, FSE on, and FSE on
/// with the shared expert's slots dropped from the routing on purpose (SEMANTICS.md §2's first failure). The task's
/// own prompts (2-shot, seed 1234), stop strings, filters and exact_match; the first items of the held-out set.
/// </summary>
public sealed class DefaultModelRuns
{
    /// <summary>Items scored with FSE off and on.</summary>
    public const int Items = 120;

    /// <summary>Items scored with the shared slots dropped (its collapse needs no more to show).</summary>
    public const int DroppedItems = 50;

    /// <summary>The dropped-slot model rarely stops: its answers are cut here (a right answer needs at most 48 tokens and the stop).</summary>
    public const int DroppedMaxTokens = 64;

    public DefaultModelRuns()
    {
        Plan = AccuracyPlan.Prepare(EvalTaskParser.BuiltIn("arith"), limit: Items);
        var tokenizer = Tokenizer.Load(DefaultModel.Directory);
        using (var off = LocalModel.Open(DefaultModel.Directory, FseMode.Off, new CpuBackend()))
        {
            OffSlots = off.Model.MoeBlocks.Select(b => b.Router.SlotsPerToken).ToArray();
            Off = LocalAccuracy.Run("FSE off", Plan, new LocalCompletion(new Generator(off.Model), tokenizer));
        }
        using (var on = LocalModel.Open(DefaultModel.Directory, FseMode.On, new CpuBackend()))
        {
            OnSlots = on.Model.MoeBlocks.Select(b => b.Router.SlotsPerToken).ToArray();
            On = LocalAccuracy.Run("FSE on", Plan, new LocalCompletion(new Generator(on.Model), tokenizer));
        }
        var config = ModelConfig.Load(DefaultModel.Directory);
        using var checkpoint = Checkpoint.Open(DefaultModel.Directory);
        using var dropped = CausalLm.Load(config, new CheckpointSource(checkpoint), new CpuBackend(), FseMode.On,
            new WeightPlanOptions { DropSharedExpertSlots = true });
        DroppedSlots = dropped.MoeBlocks.Select(b => b.Router.SlotsPerToken).ToArray();
        Dropped = LocalAccuracy.Run("FSE on, shared slots dropped", Plan, new LocalCompletion(new Generator(dropped), tokenizer),
            DroppedItems, DroppedMaxTokens);
    }

    public AccuracyPlan Plan { get; }
    public LocalAccuracyRun Off { get; }
    public LocalAccuracyRun On { get; }
    public LocalAccuracyRun Dropped { get; }
    public int[] OffSlots { get; }
    public int[] OnSlots { get; }
    public int[] DroppedSlots { get; }
}
