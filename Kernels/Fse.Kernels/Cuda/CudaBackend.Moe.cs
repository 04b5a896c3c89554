using System.Runtime.CompilerServices;
using Fse.Kernels.Cuda.Device;
using ILGPU;
using ILGPU.Runtime;

namespace Fse.Kernels.Cuda;

public sealed unsafe partial class CudaBackend
{
    /// <summary>Dynamic shared memory a softmax-routing group may use (the default limit without opting in to more).</summary>
    private const int RoutingSharedBytes = 48 * 1024;

    public void RouteSoftmax(Tensor logits, int experts, int topK, bool renormalize, int sharedSlots, Tensor ids, Tensor weights)
    {
        int width = logits.Dim(-1), tokens = checked((int)logits.Rows), slots = topK + sharedSlots;
        RoutingShapes.Check(width, experts, sharedSlots, topK, tokens, slots, ids, weights, sharedColumns: true);
        if (tokens == 0) return;
        var args = new RoutingArgs
        {
            Logits = T(logits).F32, Ids = T(ids).I32, Weights = T(weights).F32, Bias = T(logits).F32, Tokens = tokens,
            Width = width, Experts = experts, TopK = topK, SharedSlots = sharedSlots, Renormalize = renormalize ? 1 : 0, Scale = 1f,
        };
        // One warp per token, 4·E floats of shared memory each: as many warps per group as fit in 48 KB.
        int perWarp = 4 * experts * sizeof(float), warps = Math.Min(Warps(_group), RoutingSharedBytes / perWarp);
        if (warps < 1) throw new NotSupportedException($"Softmax routing over {experts} experts needs {perWarp} bytes of shared memory per token; at most {RoutingSharedBytes} are available.");
        _k.RouteSoftmax(new KernelConfig((tokens + warps - 1) / warps, warps * _acc.WarpSize, SharedMemoryConfig.RequestDynamic<float>(warps * 4 * experts)), args);
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
    /// The grouped expert pass: align (sort pairs by expert, cut tiles), gate/up with SiLU·mul, down, and the per-token
    /// weighted combine. Gate/up and down are GEMV-style kernels (four pairs per read of an expert) for few tokens, and
    /// batched cuBLAS GEMMs over tiles of <see cref="CudaBackendOptions.MoeGemmTileRows"/> pairs from <see cref="CudaBackendOptions.MoeCublasMinTokens"/> tokens with BF16
    /// weights. Shared-expert slots under FSE are just more slots.
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
        bool gemm = _cublas is { CanBatch: true } && Options.UseCublas && set.DType == DType.BF16 && tokens >= Options.MoeCublasMinTokens;
        int pairs = tokens * perToken, tileRows = gemm ? Math.Max(1, Options.MoeGemmTileRows) : MatMulKernels.GemvTokenTile;
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
        int warps = Warps(_group);
        if (!gemm && args.Vector != 0 && tokens <= Options.MoeDirectMaxTokens)
        {
            _k.MoeGateUpDirect[set.DType](new KernelConfig(checked(pairs * ((width + warps - 1) / warps)), _group), args);
            if (tokens == 1 && UsesSingleTokenDown(set, perToken))
            {
                if (Options.MoeDownBySlot)
                {
                    // A warp per slot: as many warps as slots, up to the group limit (the warps loop over the rest).
                    int slotGroup = Math.Min(_acc.MaxNumThreadsPerGroup / _acc.WarpSize, perToken) * _acc.WarpSize;
                    int columns = MoeSingleTokenKernel.SlotColumns;
                    _k.MoeDownBySlot[set.DType](new KernelConfig((hidden + columns - 1) / columns, slotGroup, SharedMemoryConfig.RequestDynamic<float>(perToken * columns)), args);
                }
                else _k.MoeSingleTokenDown[set.DType](new KernelConfig((hidden + warps - 1) / warps, _group), args);
            }
            else
                _k.MoeDownCombineDirect[set.DType](new KernelConfig(checked(tokens * ((hidden + warps - 1) / warps)), _group), args);
            return;
        }
        int alignGroup = Math.Min(256, _acc.MaxNumThreadsPerGroup);
        _k.MoeAlign(new KernelConfig(1, alignGroup, SharedMemoryConfig.RequestDynamic<int>(2 * set.Slots + alignGroup / _acc.WarpSize)), args);
        if (gemm) ExpertGemms(set, args);
        else
        {
            if (args.Vector != 0)
            {
                int gateUpPerGroup = 2 * warps, downPerGroup = warps * MoeKernels.DownRowsPerWarp;
                _k.MoeGateUpTwoRows[set.DType](new KernelConfig(checked(maxTiles * ((width + gateUpPerGroup - 1) / gateUpPerGroup)), _group), args);
                _k.MoeDownFourRows[set.DType](new KernelConfig(checked(maxTiles * ((hidden + downPerGroup - 1) / downPerGroup)), _group), args);
            }
            else
            {
                _k.MoeGateUp[set.DType](new KernelConfig(checked(maxTiles * ((width + warps - 1) / warps)), _group), args);
                _k.MoeDown[set.DType](new KernelConfig(checked(maxTiles * ((hidden + warps - 1) / warps)), _group), args);
            }
        }
        _k.MoeCombine(Linear((long)tokens * hidden), args);
    }

    /// <summary>
    /// Whether a one-token down pass runs as <see cref="MoeSingleTokenKernel"/>: 32-lane warps, 16-bit weights, at most
    /// 12 slots, rows of at most 512 intermediate values.
    /// </summary>
    private bool UsesSingleTokenDown(CudaExpertSet set, int perToken) =>
        Options.MoeSingleTokenDown && HasSingleTokenDown && set.DType is DType.BF16 or DType.F16
        && perToken <= MoeSingleTokenKernel.MaxSlots && set.Width / 8 <= MoeSingleTokenKernel.MaxChunks;

    /// <summary>Whether this accelerator runs the single-token down kernel at all (it is written for 32-lane warps).</summary>
    public bool HasSingleTokenDown => _acc.WarpSize == 32;

    /// <summary>Workspace of one chunk of tiles of the batched-GEMM expert path, at most (bytes).</summary>
    private const long GemmChunkBytes = 256L << 20;

    /// <summary>
    /// The experts of the aligned tiles as two batched cuBLAS GEMMs per chunk of tiles (see <see cref="MoeGemmKernels"/>).
    /// Reads the tile count back first (one wait per MoE layer of a prefill), so each GEMM covers exactly the tiles in use.
    /// </summary>
    private void ExpertGemms(CudaExpertSet set, MoeArgs moe)
    {
        var count = new int[1];
        moe.TileCount.CopyToCPU(count);
        int tiles = count[0], h = set.Hidden, w = set.Width, rows = moe.TileRows;
        int terms = Math.Clamp(Options.MoeGemmSplitTerms, 1, 3), block = terms * rows;
        long perTile = (long)block * (h * 2L + 2L * w * 4 + w * 2L + h * 4L) + 6 * sizeof(long);
        int chunk = (int)Math.Clamp(GemmChunkBytes / perTile, 1, Math.Max(1, tiles));
        var xSplit = _ws.Get<ushort>(Scratch.MoeSplitX, (long)chunk * block * h);
        var c1 = _ws.Get<float>(Scratch.MoeC1, (long)chunk * block * 2 * w);
        var actSplit = _ws.Get<ushort>(Scratch.MoeSplitAct, (long)chunk * block * w);
        var c2 = _ws.Get<float>(Scratch.MoeC2, (long)chunk * block * h);
        var pointers = _ws.Get<long>(Scratch.MoePointers, 6L * chunk);
        var cublas = _cublas!;
        for (int first = 0; first < tiles; first += chunk)
        {
            int n = Math.Min(chunk, tiles - first);
            var g = new MoeGemmArgs
            {
                Moe = moe, XSplit = xSplit, ActSplit = actSplit, C1 = c1, C2 = c2, Pointers = pointers.SubView(0, 6L * n),
                W13Base = set.W13.NativePtr, W2Base = set.W2.NativePtr, XSplitBase = Pointer(xSplit), C1Base = Pointer(c1),
                ActSplitBase = Pointer(actSplit), C2Base = Pointer(c2), Terms = terms, Rows = rows, FirstTile = first, Tiles = n,
            };
            nint p = Pointer(g.Pointers);
            _k.MoeGemmPointers(Linear(n), g);
            _k.MoeGatherSplit(Linear((long)n * rows * h), g);
            cublas.GemmBatched(block, 2 * w, h, p, Cublas.R16BF, p + n * 8, Cublas.R16BF, p + 2 * n * 8, n);
            _k.MoeSiluSplit(Linear((long)n * rows * w), g);
            cublas.GemmBatched(block, h, w, p + 3 * n * 8, Cublas.R16BF, p + 4 * n * 8, Cublas.R16BF, p + 5 * n * 8, n);
            _k.MoeScatterY(Linear((long)n * rows * h), g);
        }
    }

    private static ArrayView<U4> Vectors(MemoryBuffer1D<byte, Stride1D.Dense> buffer) => ((ArrayView<byte>)buffer.View).SubView(0, buffer.Length & ~15L).Cast<U4>();

    private void CopyIn(ArrayView<byte> target, WeightTensor source)
    {
        if (source.Random is { } r) Draw(target, r);
        else target.CopyFromCPU(ref Unsafe.AsRef<byte>((void*)source.Host.Data), source.Host.ByteLength);
    }
}
