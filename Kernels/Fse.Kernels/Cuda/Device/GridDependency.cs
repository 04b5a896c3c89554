using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Fse.Kernels.Cuda.Device;

/// <summary>
/// Device side of programmatic dependent launch (<see cref="ProgrammaticLaunch"/>). A kernel that calls
/// <see cref="Wait"/> (or <see cref="Trigger"/> and <see cref="WaitOnly"/>) itself may, before it, only read what no
/// kernel of a step writes before it: weights (hinted into L2, <see cref="PrefetchL2"/>), the step's uploaded batch
/// tables, a recurrent state that only this kernel updates. Everything else it reads or writes comes after the wait.
/// Kernels that do not call it get the wait at their entry when their PTX is loaded. Nothing on the ILGPU CPU accelerator.
/// </summary>
public static class GridDependency
{
    /// <summary>Bytes per L2 line a prefetch fetches.</summary>
    public const int LineBytes = 128;

    /// <summary>
    /// Waits until the kernel this one depends on has finished and its writes are visible, then lets the next kernel
    /// launch. Without a programmatic edge (eager launches) both do nothing; for devices before sm_90 the loader removes them.
    /// </summary>
    public static void Wait()
    {
        if (!CudaAsm.IsSupported) return;
        CudaAsm.Emit(ProgrammaticLaunch.WaitInstruction);
        CudaAsm.Emit(ProgrammaticLaunch.TriggerInstruction);
    }

    /// <summary>
    /// Lets the next kernel launch now, before this one's <see cref="WaitOnly"/>: for short kernels that read what no
    /// kernel of the step writes before them (a recurrent state) ahead of their wait, and keep the launches of a chain of
    /// short kernels running ahead as a trigger at the entry does.
    /// </summary>
    public static void Trigger()
    {
        if (CudaAsm.IsSupported) CudaAsm.Emit(ProgrammaticLaunch.TriggerInstruction);
    }

    /// <summary>The wait of <see cref="Wait"/> without its trigger, after <see cref="Trigger"/>.</summary>
    public static void WaitOnly()
    {
        if (CudaAsm.IsSupported) CudaAsm.Emit(ProgrammaticLaunch.WaitInstruction);
    }

    /// <summary>
    /// Hints the <paramref name="bytes"/> bytes at device address <paramref name="address"/> into L2, one line per lane
    /// of the calling warp at a time: <c>prefetch.global.L2</c> holds no register and does not wait. Addresses come from
    /// the host (a buffer's native pointer): ILGPU gives kernels no view addresses. 0: nothing.
    /// </summary>
    public static void PrefetchL2(long address, long bytes)
    {
        if (!CudaAsm.IsSupported || address == 0) return;
        for (long at = Warp.LaneIdx * (long)LineBytes; at < bytes; at += Warp.WarpSize * (long)LineBytes)
            CudaAsm.Emit("{ .reg .b64 g; cvta.to.global.u64 g, %0; prefetch.global.L2 [g]; }", address + at);
    }
}

/// <summary>
/// Marks a kernel that lets its successor launch only once its own wait is over (<see cref="ProgrammaticLaunch"/>): the
/// norms between two weight-streaming kernels, so the second one's L2 hints start as the first one's reads end, and the
/// one-token expert down pass.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class TriggerAfterWaitAttribute : Attribute;
