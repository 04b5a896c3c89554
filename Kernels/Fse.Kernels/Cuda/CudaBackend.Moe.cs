using System.Runtime.CompilerServices;
using Fse.Kernels.Cuda.Device;
using ILGPU;
using ILGPU.Runtime;

namespace Fse.Kernels.Cuda;

public sealed unsafe partial class CudaBackend
{
    public void RouteSoftmax(Tensor logits, int experts, int topK, bool renormalize, int sharedSlots, Tensor ids, Tensor weights)
    {
        int width = logits.Dim(-1), tokens = checked((int)logits.Rows), slots = topK + sharedSlots;
        RoutingShapes.Check(width, experts, sharedSlots, topK, tokens, slots, ids, weights, sharedColumns: true);
        if (tokens == 0) return;
        var args = new RoutingArgs
        {
            Logits = T(logits).F32, Ids = T(ids).I32, Weights = T(weights).F32, Bias = T(logits).F32,
            Width = width, Experts = experts, TopK = topK, SharedSlots = sharedSlots, Renormalize = renormalize ? 1 : 0, Scale = 1f,
        };
        int warps = Warps(_group);
        _k.RouteSoftmax(Rows(tokens, experts + 2 * warps + topK), args);
    }

    public void RouteSigmoidGrouped(Tensor logits, Tensor bias, int topK, int groups, int topkGroups, bool renormalize, float scale, int sharedSlots, Tensor ids, Tensor weights)
    {
        int experts = logits.Dim(-1), tokens = checked((int)logits.Rows), slots = topK + sharedSlots;
        RoutingShapes.Check(experts, experts, sharedSlots, topK, tokens, slots, ids, weights, sharedColumns: false);
        if (bias.ElementCount != experts || groups < 1 || experts % groups != 0 || topkGroups < 1 || topkGroups > groups)
            throw new ArgumentException($"Grouped routing of {experts} experts in {groups} groups keeping {topkGroups}, bias {bias}.");
        if (tokens == 0) return;
        var args = new RoutingArgs
        {
            Logits = T(logits).F32, Bias = T(bias).F32, Ids = T(ids).I32, Weights = T(weights).F32,
            Width = experts, Experts = experts, TopK = topK, SharedSlots = sharedSlots, Renormalize = renormalize ? 1 : 0,
            Groups = groups, TopkGroups = topkGroups, Scale = scale,
        };
        int warps = Warps(_group);
        _k.RouteSigmoidGrouped(Rows(tokens, 2 * experts + 2 * groups + 2 * warps + topK), args);
    }

    public ExpertSet CreateExpertSet(IReadOnlyList<ExpertSlot> slots)
    {
        Enter();
        var (width, hidden, dtype) = ExpertSlot.CheckUniform(slots);
        long matrix = (long)width * hidden * dtype.Size();
        var w13 = _acc.Allocate1D<byte>(Math.Max(16, 2 * matrix * slots.Count));
        var w2 = _acc.Allocate1D<byte>(Math.Max(16, matrix * slots.Count));
        try
        {
            for (int i = 0; i < slots.Count; i++)
            {
                CopyIn(w13.View.SubView(2 * i * matrix, matrix), slots[i].Gate);
                CopyIn(w13.View.SubView((2 * i + 1) * matrix, matrix), slots[i].Up);
                CopyIn(w2.View.SubView(i * matrix, matrix), slots[i].Down);
            }
        }
        catch
        {
            w13.Dispose();
            w2.Dispose();
            throw;
        }
        return new CudaExpertSet(this, dtype, w13, w2, slots.Count, hidden, width);
    }

    /// <summary>
    /// The grouped expert pass in four launches: align (sort pairs by expert, cut tiles), gate/up with SiLU·mul, down,
    /// and the per-token weighted combine. Shared-expert slots under FSE are just more slots.
    /// </summary>
    public void MoeExperts(Tensor x, Tensor ids, Tensor weights, ExpertSet experts, Tensor output)
    {
        var set = experts as CudaExpertSet ?? throw new ArgumentException("The expert set belongs to another backend.");
        if (set.Owner != this) throw new ArgumentException("The expert set belongs to another backend.");
        var xs = T(x);
        int tokens = checked((int)x.Rows), hidden = set.Hidden, width = set.Width, perToken = ids.Dim(-1);
        if (x.Dim(-1) != hidden || output.ElementCount != x.ElementCount || ids.Rows != tokens || weights.ElementCount != ids.ElementCount)
            throw Shapes("MoeExperts", x, ids, weights, output);
        if (tokens == 0) return;
        int pairs = tokens * perToken, tileRows = MatMulKernels.GemvTokenTile;
        int maxTiles = (pairs + tileRows - 1) / tileRows + Math.Min(pairs, set.Slots);
        var index = _ws.Get<int>(Scratch.MoeIndex, 2L * set.Slots + pairs + 2L * maxTiles + 1);
        var act = _ws.Get<float>(Scratch.MoeAct, (long)pairs * width);
        var y = _ws.Get<float>(Scratch.MoeY, (long)pairs * hidden);
        long o = 0;
        ArrayView<int> Next(long n)
        {
            var part = index.SubView(o, n);
            o += n;
            return part;
        }
        var args = new MoeArgs
        {
            W13 = set.W13.View, W2 = set.W2.View, W13v = Vectors(set.W13),
            W2v = Vectors(set.W2),
            X = xs.F32, Xv = xs.Vec, Weights = T(weights).F32, Ids = T(ids).I32, Act = act, Actv = act.Cast<U4>(), Y = y, Out = T(output).F32,
            Counts = Next(set.Slots), TileOffsets = Next(set.Slots), Sorted = Next(pairs), TileExpert = Next(maxTiles),
            TileStart = Next(maxTiles), TileCount = Next(1),
            Tokens = tokens, PerToken = perToken, Slots = set.Slots, Hidden = hidden, Width = width, TileRows = tileRows, MaxTiles = maxTiles,
            Vector = hidden % 8 == 0 && width % 8 == 0 && xs.Aligned16 ? 1 : 0, Status = _status.View,
        };
        int alignGroup = Math.Min(256, _acc.MaxNumThreadsPerGroup);
        _k.MoeAlign(new KernelConfig(1, alignGroup, SharedMemoryConfig.RequestDynamic<int>(2 * set.Slots + alignGroup / _acc.WarpSize)), args);
        int warps = Warps(_group);
        _k.MoeGateUp[set.DType](new KernelConfig(checked(maxTiles * ((width + warps - 1) / warps)), _group), args);
        _k.MoeDown[set.DType](new KernelConfig(checked(maxTiles * ((hidden + warps - 1) / warps)), _group), args);
        _k.MoeCombine(Linear((long)tokens * hidden), args);
    }

    private static ArrayView<U4> Vectors(MemoryBuffer1D<byte, Stride1D.Dense> buffer) => ((ArrayView<byte>)buffer.View).SubView(0, buffer.Length & ~15L).Cast<U4>();

    private static void CopyIn(ArrayView<byte> target, HostTensor source) =>
        target.CopyFromCPU(ref Unsafe.AsRef<byte>((void*)source.Data), source.ByteLength);
}
