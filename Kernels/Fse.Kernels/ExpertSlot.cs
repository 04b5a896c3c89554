namespace Fse.Kernels;

/// <summary>
/// One slot of an MoE layer's grouped expert weights: a SwiGLU MLP <c>down · (silu(gate·x) ⊙ up·x)</c> with
/// gate, up [width, hidden] and down [hidden, width]. Under FSE the shared expert fills extra slots like these.
/// </summary>
public readonly record struct ExpertSlot(HostTensor Gate, HostTensor Up, HostTensor Down);

/// <summary>The grouped expert weights of one MoE layer as a backend keeps them (opaque to callers).</summary>
public abstract class ExpertSet : IDisposable
{
    protected ExpertSet(int slots, int hidden, int width)
    {
        Slots = slots;
        Hidden = hidden;
        Width = width;
    }

    public int Slots { get; }
    public int Hidden { get; }
    public int Width { get; }

    public abstract void Dispose();
}
