namespace Fse.Kernels;

/// <summary>
/// One slot of an MoE layer's grouped expert weights: a SwiGLU MLP <c>down · (silu(gate·x) ⊙ up·x)</c> with
/// gate, up [width, hidden] and down [hidden, width]. Under FSE the shared expert fills extra slots like these. Each
/// matrix is host bytes or a random draw the backend makes in place (<see cref="WeightTensor"/>).
/// </summary>
public readonly record struct ExpertSlot(WeightTensor Gate, WeightTensor Up, WeightTensor Down)
{
    /// <summary>Checks that every slot has gate/up [width, hidden] and down [hidden, width] of one float dtype; returns the sizes.</summary>
    public static (int Width, int Hidden, DType DType) CheckUniform(IReadOnlyList<ExpertSlot> slots)
    {
        if (slots.Count == 0) throw new ArgumentException("An expert set needs at least one slot.");
        int width = slots[0].Gate.Shape[0], hidden = slots[0].Gate.Shape[1];
        var dtype = slots[0].Gate.DType;
        if (dtype is not (DType.F32 or DType.F16 or DType.BF16)) throw new ArgumentException($"Expert weights must be F32, F16 or BF16, not {dtype}.");
        for (int i = 0; i < slots.Count; i++)
        {
            var s = slots[i];
            if (!s.Gate.Shape.SequenceEqual(new[] { width, hidden }) || !s.Up.Shape.SequenceEqual(new[] { width, hidden }) || !s.Down.Shape.SequenceEqual(new[] { hidden, width }))
                throw new ArgumentException($"Expert slot {i} has gate {s.Gate}, up {s.Up}, down {s.Down}; expected [{width}, {hidden}] and [{hidden}, {width}].");
            if (s.Gate.DType != dtype || s.Up.DType != dtype || s.Down.DType != dtype)
                throw new ArgumentException($"Expert slot {i} mixes dtypes ({s.Gate.DType}, {s.Up.DType}, {s.Down.DType}); every slot must be {dtype}.");
        }
        return (width, hidden, dtype);
    }
}

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
