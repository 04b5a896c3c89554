using System.Reflection;
using Fse.Kernels.Cuda.Device;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Fse.Kernels.Cuda;

/// <summary>Three instantiations of a kernel that is generic over the weight dtype.</summary>
internal readonly record struct ByWeight<T>(T F32, T F16, T Bf16)
{
    public T this[DType dtype] => dtype switch
    {
        DType.F32 => F32,
        DType.F16 => F16,
        DType.BF16 => Bf16,
        _ => throw new ArgumentException($"Weights must be F32, F16 or BF16, not {dtype}."),
    };
}

/// <summary>Two instantiations of a kernel for the 16-bit weight dtypes.</summary>
internal readonly record struct ByHalfWeight<T>(T F16, T Bf16)
{
    public T this[DType dtype] => dtype switch
    {
        DType.F16 => F16,
        DType.BF16 => Bf16,
        _ => throw new ArgumentException($"This kernel takes F16 or BF16 weights, not {dtype}."),
    };
}

/// <summary>Every kernel of the backend, compiled for its accelerator when the backend is made (never on the request path).</summary>
internal sealed class KernelSet
{
    private readonly Accelerator _acc;
    private readonly List<MethodInfo> _methods = [];
    private readonly HashSet<nint> _functions = [];
    private readonly Dictionary<string, nint> _named = [];

    /// <summary>The CUDA device's architecture as major·10 + minor (90 for sm_90); 0 on other accelerators.</summary>
    private readonly int _architecture;

    public KernelSet(Accelerator accelerator)
    {
        _acc = accelerator;
        _architecture = accelerator is CudaAccelerator { Architecture: { } a } ? a.Major * 10 + a.Minor : 0;
        Add = L<ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.Add);
        ArgMax = L<ArrayView<float>, ArrayView<U4>, ArrayView<float>, int, int>(SamplingKernels.ArgMax);
        ArgMaxParts = L<ArrayView<float>, ArrayView<U4>, ArrayView<float>, ArrayView<int>, int, int, int>(SamplingKernels.ArgMaxParts);
        ArgMaxCombine = L<ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int>(SamplingKernels.ArgMaxCombine);
        SiluMul = L<ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.SiluMul);
        SigmoidMul = L<ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.SigmoidMul);
        SigmoidScaleAdd = L<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(ElementwiseKernels.SigmoidScaleAdd);
        Embedding = new(
            L<ArrayView<int>, ArrayView<byte>, ArrayView<float>, int, int, int, ArrayView<int>>(ElementwiseKernels.Embedding<F32Weights>),
            L<ArrayView<int>, ArrayView<byte>, ArrayView<float>, int, int, int, ArrayView<int>>(ElementwiseKernels.Embedding<F16Weights>),
            L<ArrayView<int>, ArrayView<byte>, ArrayView<float>, int, int, int, ArrayView<int>>(ElementwiseKernels.Embedding<Bf16Weights>));
        Rope = L<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(ElementwiseKernels.Rope);
        RmsNorm = L<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int>(NormKernels.RmsNorm);
        AddRmsNorm = L<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int>(NormKernels.AddRmsNorm);
        QueryKeyL2 = L<ArrayView<float>, int, int, int, float>(NormKernels.QueryKeyL2);
        GatedRmsNorm = L<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(NormKernels.GatedRmsNorm);
        NormRopeHeads = L<QueryKeyRopeArgs>(NormKernels.NormRopeHeads);
        Gemv = new(L<MatMulArgs>(MatMulKernels.Gemv<F32Weights>), L<MatMulArgs>(MatMulKernels.Gemv<F16Weights>), L<MatMulArgs>(MatMulKernels.Gemv<Bf16Weights>));
        Tiled = new(L<MatMulArgs>(MatMulKernels.Tiled<F32Weights>), L<MatMulArgs>(MatMulKernels.Tiled<F16Weights>), L<MatMulArgs>(MatMulKernels.Tiled<Bf16Weights>));
        SplitBf16 = L<ArrayView<float>, ArrayView<ushort>, int, int>(MatMulKernels.SplitBf16);
        WidenF16 = L<ArrayView<byte>, long, ArrayView<float>, int>(MatMulKernels.Widen<F16Weights>);
        BroadcastRows = L<ArrayView<float>, ArrayView<float>, int, int>(MatMulKernels.BroadcastRows);
        SumTerms = L<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(MatMulKernels.SumTerms);
        WriteKv = L<AttentionArgs>(AttentionKernels.WriteKv);
        Attend = L<AttentionArgs>(AttentionKernels.Attend);
        AttendCombine = L<AttentionArgs>(AttentionKernels.Combine);
        AttendByKvHead = L<AttentionArgs>(GroupedQueryAttention.Attend);
        CausalSoftmax = L<ArrayView<float>, int, int, int>(AttentionKernels.CausalSoftmax);
        CausalConv = L<DeltaNetArgs>(DeltaNetKernels.CausalConv);
        CausalConvTokens = L<DeltaNetArgs>(DeltaNetKernels.CausalConvTokens);
        CausalConvState = L<DeltaNetArgs>(DeltaNetKernels.CausalConvState);
        DeltaRule = L<DeltaNetArgs>(DeltaNetKernels.DeltaRule);
        DeltaRuleWarp = L<DeltaNetArgs>(DeltaNetKernels.DeltaRuleWarp);
        DeltaRuleHeadNorm = L<DeltaNetArgs>(DeltaNetKernels.DeltaRuleHeadNorm);
        DeltaRuleChunked = L<DeltaNetArgs>(DeltaRuleChunkKernel.DeltaRuleChunked);
        RouteSoftmax = L<RoutingArgs>(RoutingKernels.Softmax);
        RouteSigmoidGrouped = L<RoutingArgs>(RoutingKernels.SigmoidGrouped);
        MoeAlign = L<MoeArgs>(MoeKernels.Align);
        MoeGateUp = new(L<MoeArgs>(MoeKernels.GateUp<F32Weights>), L<MoeArgs>(MoeKernels.GateUp<F16Weights>), L<MoeArgs>(MoeKernels.GateUp<Bf16Weights>));
        MoeDown = new(L<MoeArgs>(MoeKernels.Down<F32Weights>), L<MoeArgs>(MoeKernels.Down<F16Weights>), L<MoeArgs>(MoeKernels.Down<Bf16Weights>));
        MoeGateUpTwoRows = new(L<MoeArgs>(MoeKernels.GateUpTwoRows<F32Weights>), L<MoeArgs>(MoeKernels.GateUpTwoRows<F16Weights>), L<MoeArgs>(MoeKernels.GateUpTwoRows<Bf16Weights>));
        MoeDownFourRows = new(L<MoeArgs>(MoeKernels.DownFourRows<F32Weights>), L<MoeArgs>(MoeKernels.DownFourRows<F16Weights>), L<MoeArgs>(MoeKernels.DownFourRows<Bf16Weights>));
        MoeGateUpDirect = new(L<MoeArgs>(MoeKernels.GateUpDirect<F32Weights>), L<MoeArgs>(MoeKernels.GateUpDirect<F16Weights>), L<MoeArgs>(MoeKernels.GateUpDirect<Bf16Weights>));
        MoeDownCombineDirect = new(L<MoeArgs>(MoeKernels.DownCombineDirect<F32Weights>), L<MoeArgs>(MoeKernels.DownCombineDirect<F16Weights>), L<MoeArgs>(MoeKernels.DownCombineDirect<Bf16Weights>));
        MoeCombine = L<MoeArgs>(MoeKernels.Combine);
        MoeSingleTokenDown = new(L<MoeArgs>(MoeSingleTokenKernel.Down<F16Weights>), L<MoeArgs>(MoeSingleTokenKernel.Down<Bf16Weights>));
        MoeDownBySlot = new(L<MoeArgs>(MoeSingleTokenKernel.DownBySlot<F16Weights>), L<MoeArgs>(MoeSingleTokenKernel.DownBySlot<Bf16Weights>));
        MoeGemmPointers = L<MoeGemmArgs>(MoeGemmKernels.Pointers);
        MoeGatherSplit = L<MoeGemmArgs>(MoeGemmKernels.GatherSplit);
        MoeSiluSplit = L<MoeGemmArgs>(MoeGemmKernels.SiluSplit);
        MoeScatterY = L<MoeGemmArgs>(MoeGemmKernels.ScatterY);
        RandomNormal = L<RandomArgs>(RandomKernels.Normal);
    }

    /// <summary>The kernel methods in load order (the PTX compile test walks them).</summary>
    public IReadOnlyList<MethodInfo> Methods => _methods;

    /// <summary>
    /// The CUDA functions of these kernels (empty on other accelerators): every one waits for its predecessor's grid
    /// before it touches what a step writes, so an edge from one of them to the next may be made programmatic.
    /// </summary>
    public IReadOnlySet<nint> Functions => _functions;

    /// <summary>The CUDA function of each kernel by name (<c>Class.Method</c> or <c>Class.Method&lt;Format&gt;</c>; empty on other accelerators).</summary>
    public IReadOnlyDictionary<string, nint> FunctionsByName => _named;

    /// <summary>The name <see cref="FunctionsByName"/> gives a kernel method.</summary>
    public static string NameOf(MethodInfo m) =>
        m.DeclaringType!.Name + "." + m.Name + (m.IsGenericMethod ? "<" + m.GetGenericArguments()[0].Name + ">" : "");

    /// <summary>Whether the kernels were loaded with the wait and trigger of programmatic launch (sm_90 and newer).</summary>
    public bool WaitsForPredecessor => _architecture >= ProgrammaticLaunch.MinArchitecture;

    /// <summary>Called before every launch of these kernels (while a step graph records: to make its edge programmatic).</summary>
    public Action? BeforeLaunch { get; set; }

    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> Add { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<U4>, ArrayView<float>, int, int> ArgMax { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<U4>, ArrayView<float>, ArrayView<int>, int, int, int> ArgMaxParts { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int> ArgMaxCombine { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> SiluMul { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> SigmoidMul { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> SigmoidScaleAdd { get; }
    public ByWeight<Action<KernelConfig, ArrayView<int>, ArrayView<byte>, ArrayView<float>, int, int, int, ArrayView<int>>> Embedding { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int> Rope { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int> RmsNorm { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int> AddRmsNorm { get; }
    public Action<KernelConfig, ArrayView<float>, int, int, int, float> QueryKeyL2 { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float> GatedRmsNorm { get; }
    public Action<KernelConfig, QueryKeyRopeArgs> NormRopeHeads { get; }
    public ByWeight<Action<KernelConfig, MatMulArgs>> Gemv { get; }
    public ByWeight<Action<KernelConfig, MatMulArgs>> Tiled { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<ushort>, int, int> SplitBf16 { get; }
    public Action<KernelConfig, ArrayView<byte>, long, ArrayView<float>, int> WidenF16 { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int> BroadcastRows { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int> SumTerms { get; }
    public Action<KernelConfig, AttentionArgs> WriteKv { get; }
    public Action<KernelConfig, AttentionArgs> Attend { get; }
    public Action<KernelConfig, AttentionArgs> AttendCombine { get; }

    /// <summary>Decode attention with a group per KV head, each key and value read once for its query heads.</summary>
    public Action<KernelConfig, AttentionArgs> AttendByKvHead { get; }
    public Action<KernelConfig, ArrayView<float>, int, int, int> CausalSoftmax { get; }
    public Action<KernelConfig, DeltaNetArgs> CausalConv { get; }
    public Action<KernelConfig, DeltaNetArgs> CausalConvTokens { get; }
    public Action<KernelConfig, DeltaNetArgs> CausalConvState { get; }
    public Action<KernelConfig, DeltaNetArgs> DeltaRule { get; }
    public Action<KernelConfig, DeltaNetArgs> DeltaRuleWarp { get; }
    public Action<KernelConfig, DeltaNetArgs> DeltaRuleHeadNorm { get; }
    public Action<KernelConfig, DeltaNetArgs> DeltaRuleChunked { get; }
    public Action<KernelConfig, RoutingArgs> RouteSoftmax { get; }
    public Action<KernelConfig, RoutingArgs> RouteSigmoidGrouped { get; }
    public Action<KernelConfig, MoeArgs> MoeAlign { get; }
    public ByWeight<Action<KernelConfig, MoeArgs>> MoeGateUp { get; }
    public ByWeight<Action<KernelConfig, MoeArgs>> MoeDown { get; }
    public ByWeight<Action<KernelConfig, MoeArgs>> MoeDownFourRows { get; }
    public ByWeight<Action<KernelConfig, MoeArgs>> MoeGateUpTwoRows { get; }
    public ByWeight<Action<KernelConfig, MoeArgs>> MoeGateUpDirect { get; }
    public ByWeight<Action<KernelConfig, MoeArgs>> MoeDownCombineDirect { get; }

    /// <summary>The down pass of a single token with every slot's row loaded at once (16-bit weights only).</summary>
    public ByHalfWeight<Action<KernelConfig, MoeArgs>> MoeSingleTokenDown { get; }

    /// <summary>The same down pass with a warp per slot and a group per four columns (16-bit weights only).</summary>
    public ByHalfWeight<Action<KernelConfig, MoeArgs>> MoeDownBySlot { get; }
    public Action<KernelConfig, MoeArgs> MoeCombine { get; }
    public Action<KernelConfig, MoeGemmArgs> MoeGemmPointers { get; }
    public Action<KernelConfig, MoeGemmArgs> MoeGatherSplit { get; }
    public Action<KernelConfig, MoeGemmArgs> MoeSiluSplit { get; }
    public Action<KernelConfig, MoeGemmArgs> MoeScatterY { get; }
    public Action<KernelConfig, RandomArgs> RandomNormal { get; }

    private Action<KernelConfig, T1> L<T1>(Action<T1> k) where T1 : struct
    {
        if (Load<Action<AcceleratorStream, KernelConfig, T1>>(k.Method) is { } f) return (c, a) => { BeforeLaunch?.Invoke(); f(_acc.DefaultStream, c, a); };
        return _acc.LoadStreamKernel(k);
    }

    private Action<KernelConfig, T1, T2, T3, T4> L<T1, T2, T3, T4>(Action<T1, T2, T3, T4> k)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct
    {
        if (Load<Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4>>(k.Method) is { } f) return (c, a, b, d, e) => { BeforeLaunch?.Invoke(); f(_acc.DefaultStream, c, a, b, d, e); };
        return _acc.LoadStreamKernel(k);
    }

    private Action<KernelConfig, T1, T2, T3, T4, T5> L<T1, T2, T3, T4, T5>(Action<T1, T2, T3, T4, T5> k)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct
    {
        if (Load<Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5>>(k.Method) is { } f)
            return (c, a, b, d, e, g) => { BeforeLaunch?.Invoke(); f(_acc.DefaultStream, c, a, b, d, e, g); };
        return _acc.LoadStreamKernel(k);
    }

    private Action<KernelConfig, T1, T2, T3, T4, T5, T6> L<T1, T2, T3, T4, T5, T6>(Action<T1, T2, T3, T4, T5, T6> k)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct
    {
        if (Load<Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6>>(k.Method) is { } f)
            return (c, a, b, d, e, g, h) => { BeforeLaunch?.Invoke(); f(_acc.DefaultStream, c, a, b, d, e, g, h); };
        return _acc.LoadStreamKernel(k);
    }

    private Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7> L<T1, T2, T3, T4, T5, T6, T7>(Action<T1, T2, T3, T4, T5, T6, T7> k)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct
    {
        if (Load<Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6, T7>>(k.Method) is { } f)
            return (c, a, b, d, e, g, h, m) => { BeforeLaunch?.Invoke(); f(_acc.DefaultStream, c, a, b, d, e, g, h, m); };
        return _acc.LoadStreamKernel(k);
    }

    /// <summary>
    /// Records <paramref name="method"/> and, on a CUDA device, compiles it to PTX, rewrites that for programmatic launch
    /// (<see cref="ProgrammaticLaunch"/>) and loads it; null on other accelerators (ILGPU loads those itself).
    /// </summary>
    private TDelegate? Load<TDelegate>(MethodInfo method) where TDelegate : Delegate
    {
        _methods.Add(method);
        if (_acc is not CudaAccelerator) return null;
        var compiled = (PTXCompiledKernel)_acc.CompileKernel(EntryPointDescription.FromExplicitlyGroupedKernel(method));
        string ptx = WaitsForPredecessor
            ? ProgrammaticLaunch.Enable(compiled.PTXAssembly, _architecture, triggerFirst: method.GetCustomAttribute<TriggerAfterWaitAttribute>() is null)
            : ProgrammaticLaunch.Disable(compiled.PTXAssembly);
        var kernel = (CudaKernel)_acc.LoadKernel(Rebuilt(compiled, ptx));
        _functions.Add(kernel.FunctionPtr);
        _named[NameOf(method)] = kernel.FunctionPtr;
        return kernel.CreateLauncherDelegate<TDelegate>();
    }

    /// <summary>A compiled kernel like <paramref name="compiled"/> with other PTX (ILGPU keeps the constructor internal).</summary>
    private static PTXCompiledKernel Rebuilt(PTXCompiledKernel compiled, string ptx)
    {
        var entryPoint = typeof(CompiledKernel).GetProperty("EntryPoint", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(compiled)
            ?? throw new NotSupportedException("This ILGPU version has no CompiledKernel.EntryPoint; the PTX cannot be reloaded.");
        var ctor = typeof(PTXCompiledKernel).GetConstructors(BindingFlags.Instance | BindingFlags.NonPublic)
            .FirstOrDefault(c => c.GetParameters().Length == 4 && c.GetParameters()[3].ParameterType == typeof(string))
            ?? throw new NotSupportedException("This ILGPU version has no PTXCompiledKernel(context, entry point, info, PTX) constructor.");
        return (PTXCompiledKernel)ctor.Invoke([compiled.Context, entryPoint, compiled.Info, ptx]);
    }
}
