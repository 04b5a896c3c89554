using System.Runtime.InteropServices;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Fse.Kernels.Cuda;

/// <summary>
/// cuBLAS through P/Invoke on the accelerator's own stream and buffers: <c>cublasGemmEx</c> for the prefill
/// matmuls (ILGPU's wrapper has no GemmEx/bf16 and only probes libcublas.so.10–12). The library is resolved at run
/// time, libcublas.so.13 first, then .12.
/// </summary>
internal sealed unsafe class Cublas : IDisposable
{
    public const int R32F = 0, R16F = 2, R16BF = 14;
    private const int OpN = 0, OpT = 1, Compute32F = 68, GemmDefault = -1;
    private static readonly string[] Candidates = ["libcublas.so.13", "libcublas.so.12", "cublas64_13.dll", "cublas64_12.dll"];

    private readonly Accelerator _acc;
    private readonly delegate* unmanaged<nint, int> _destroy;
    private readonly delegate* unmanaged<nint, int, int, int, int, int, float*, nint, int, int, nint, int, int, float*, nint, int, int, int, int, int> _gemmEx;
    private readonly delegate* unmanaged<nint, int, int, int, int, int, float*, nint, int, int, nint, int, int, float*, nint, int, int, int, int, int, int> _gemmBatchedEx;
    private readonly delegate* unmanaged<nint, int, int, int, int, int, float*, nint, int, int, long, nint, int, int, long, float*, nint, int, int, long, int, int, int, int> _gemmStridedBatchedEx;
    private nint _handle;

    private Cublas(Accelerator acc, nint library, string name)
    {
        _acc = acc;
        Library = name;
        var create = (delegate* unmanaged<nint*, int>)NativeLibrary.GetExport(library, "cublasCreate_v2");
        var setStream = (delegate* unmanaged<nint, nint, int>)NativeLibrary.GetExport(library, "cublasSetStream_v2");
        _destroy = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(library, "cublasDestroy_v2");
        _gemmEx = (delegate* unmanaged<nint, int, int, int, int, int, float*, nint, int, int, nint, int, int, float*, nint, int, int, int, int, int>)
            NativeLibrary.GetExport(library, "cublasGemmEx");
        if (NativeLibrary.TryGetExport(library, "cublasGemmBatchedEx", out var batched))
            _gemmBatchedEx = (delegate* unmanaged<nint, int, int, int, int, int, float*, nint, int, int, nint, int, int, float*, nint, int, int, int, int, int, int>)batched;
        if (NativeLibrary.TryGetExport(library, "cublasGemmStridedBatchedEx", out var strided))
            _gemmStridedBatchedEx = (delegate* unmanaged<nint, int, int, int, int, int, float*, nint, int, int, long, nint, int, int, long, float*, nint, int, int, long, int, int, int, int>)strided;
        acc.Bind();
        nint handle;
        Check(create(&handle), "cublasCreate");
        _handle = handle;
        Check(setStream(_handle, ((CudaStream)acc.DefaultStream).StreamPtr), "cublasSetStream");
    }

    /// <summary>The file name that was loaded.</summary>
    public string Library { get; }

    /// <summary>cuBLAS on a CUDA accelerator, or null with the reason it could not be loaded.</summary>
    public static Cublas? TryCreate(Accelerator acc, out string reason)
    {
        if (acc is not CudaAccelerator)
        {
            reason = "not a CUDA accelerator";
            return null;
        }
        foreach (var name in Candidates)
        {
            if (!NativeLibrary.TryLoad(name, out var lib)) continue;
            try
            {
                reason = "";
                return new Cublas(acc, lib, name);
            }
            catch (Exception e) when (e is EntryPointNotFoundException or InvalidOperationException)
            {
                reason = $"{name}: {e.Message}";
                return null;
            }
        }
        reason = $"none of {string.Join(", ", Candidates)} could be loaded";
        return null;
    }

    /// <summary>
    /// Row-major out [T, N] (leading dimension ldOut) = alpha · x [T, K] · w [N, K]ᵀ + beta · out, with F32 output and
    /// F32 compute: column-major that is outᵀ = wᵀᵀ · xᵀ, i.e. GemmEx(T, N, m = N, n = T, k = K).
    /// </summary>
    public void Gemm(int tokens, int n, int k, nint w, int wType, nint x, int xType, nint output, int ldOut, float alpha, float beta)
    {
        _acc.Bind();
        Check(_gemmEx(_handle, OpT, OpN, n, tokens, k, &alpha, w, wType, k, x, xType, k, &beta, output, R32F, ldOut, Compute32F, GemmDefault), "cublasGemmEx");
    }

    /// <summary>Whether <see cref="GemmBatched"/> is available.</summary>
    public bool CanBatch => _gemmBatchedEx != null;

    /// <summary>
    /// <see cref="Gemm"/> over <paramref name="batch"/> problems of one shape whose operand addresses are device arrays:
    /// out_i [rows, n] = x_i [rows, k] · w_i [n, k]ᵀ, F32 output and compute.
    /// </summary>
    public void GemmBatched(int rows, int n, int k, nint wArray, int wType, nint xArray, int xType, nint outArray, int batch)
    {
        _acc.Bind();
        float alpha = 1f, beta = 0f;
        Check(_gemmBatchedEx(_handle, OpT, OpN, n, rows, k, &alpha, wArray, wType, k, xArray, xType, k, &beta, outArray, R32F, n, batch, Compute32F, GemmDefault),
            "cublasGemmBatchedEx");
    }

    /// <summary>Whether <see cref="AttentionScores"/> and <see cref="AttentionValues"/> are available.</summary>
    public bool CanStride => _gemmStridedBatchedEx != null;

    /// <summary>
    /// F32 scores_b [rows, keys] (leading dimension keys, batch stride keys·rows) = alpha · q_b [rows, d] · kᵀ [d, keys] for
    /// <paramref name="batch"/> query heads that share one key head: q rows are ldq apart and heads d apart, k rows ldk apart.
    /// </summary>
    public void AttentionScores(int rows, int keys, int d, nint k, int ldk, nint q, int ldq, nint scores, float alpha, int batch)
    {
        _acc.Bind();
        float beta = 0f;
        Check(_gemmStridedBatchedEx(_handle, OpT, OpN, keys, rows, d, &alpha, k, R32F, ldk, 0, q, R32F, ldq, d, &beta, scores, R32F, keys,
            (long)keys * rows, batch, Compute32F, GemmDefault), "cublasGemmStridedBatchedEx");
    }

    /// <summary>out_b [rows, d] (rows ldo apart, heads d apart) = p_b [rows, keys] · v [keys, d] (v rows ldv apart), F32.</summary>
    public void AttentionValues(int rows, int keys, int d, nint v, int ldv, nint p, nint output, int ldo, int batch)
    {
        _acc.Bind();
        float alpha = 1f, beta = 0f;
        Check(_gemmStridedBatchedEx(_handle, OpN, OpN, d, rows, keys, &alpha, v, R32F, ldv, 0, p, R32F, keys, (long)keys * rows, &beta, output, R32F, ldo,
            d, batch, Compute32F, GemmDefault), "cublasGemmStridedBatchedEx");
    }

    public void Dispose()
    {
        if (_handle == 0) return;
        _acc.Bind();
        _destroy(_handle);
        _handle = 0;
    }

    private static void Check(int status, string call)
    {
        if (status != 0) throw new InvalidOperationException($"{call} failed with cuBLAS status {status}.");
    }
}
