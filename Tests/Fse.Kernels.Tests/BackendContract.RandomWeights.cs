using System.Runtime.InteropServices;
using static Fse.Kernels.Tests.Reference;

namespace Fse.Kernels.Tests;

public abstract partial class BackendContract
{
    /// <summary>
    /// A matrix stacked from a row gather, a zero-padded window and a plain window of two draws, at scales that give F16
    /// subnormals (1e-9) and F16 overflow to infinity (3 · |centred sum| &gt; 65520 for about half the draws).
    /// </summary>
    private static RandomMatrix MixedDraw(DType dtype, Random rng)
    {
        ulong k1 = (ulong)rng.NextInt64(), k2 = (ulong)rng.NextInt64();
        var a = RandomMatrix.Whole(dtype, 10, 12, k1, 1e-9f);
        var b = RandomMatrix.Whole(dtype, 6, 20, k2, 3f);
        return RandomMatrix.ConcatRows([a.GatherRows([7, 8, 9, 0, 1, 4]), b.Window(1, 3, 5, 9, 5, 12), a.Window(2, 4, 0, 12, 4, 12)]);
    }

    /// <summary>The host reference of a draw, widened to F32.</summary>
    private static float[] HostDraw(RandomMatrix m)
    {
        var bytes = new byte[m.ElementCount * m.DType.Size()];
        m.WriteTo(bytes);
        return m.DType switch
        {
            DType.F32 => MemoryMarshal.Cast<byte, float>(bytes).ToArray(),
            DType.BF16 => MemoryMarshal.Cast<byte, ushort>(bytes).ToArray().Select(Bf16.ToF32).ToArray(),
            _ => MemoryMarshal.Cast<byte, Half>(bytes).ToArray().Select(h => (float)h).ToArray(),
        };
    }

    [Theory]
    [InlineData(DType.BF16)]
    [InlineData(DType.F16)]
    [InlineData(DType.F32)]
    public void DrawnMatricesHoldTheHostDrawBitForBit(DType dtype)
    {
        using var b = CreateBackend();
        var m = MixedDraw(dtype, new Random(31));
        Assert.Equal(15, m.Rows);
        using var t = b.Upload(m);
        Assert.Equal(new[] { m.Rows, m.Cols }, t.Shape);
        // Read the matrix back through an embedding lookup of every row (16-bit values widen to F32 exactly).
        using var ids = b.Upload(Enumerable.Range(0, m.Rows).ToArray(), m.Rows);
        using var o = b.Allocate(DType.F32, m.Rows, m.Cols);
        b.Embedding(ids, t, o);
        var want = HostDraw(m);
        Assert.Equal(want, Download(b, o));
        Assert.Contains(want, v => v == 0); // the padding
        if (dtype == DType.F16)
        {
            Assert.Contains(want, float.IsInfinity);
            Assert.Contains(want, v => v != 0 && MathF.Abs(v) < 6.1e-5f); // subnormal
        }
    }

    [Fact]
    public void ExpertSetsFromDrawsComputeWhatExpertSetsFromTheirBytesCompute()
    {
        using var b = CreateBackend();
        var rng = new Random(32);
        int h = 16, width = 8, slots = 3, t = 5, per = 2;
        // A packed [slots, 2·width, h] gate_up tensor and a [slots, h, width] down tensor, sliced per slot as the plan does.
        var gateUp = RandomMatrix.Whole(DType.BF16, slots * 2 * width, h, (ulong)rng.NextInt64(), 0.3f);
        var down = RandomMatrix.Whole(DType.BF16, slots * h, width, (ulong)rng.NextInt64(), 0.3f);
        var drawn = Enumerable.Range(0, slots).Select(s => new ExpertSlot(
            gateUp.Window(2 * s * width, width, 0, h, width, h), gateUp.Window((2 * s + 1) * width, width, 0, h, width, h),
            down.Window(s * h, h, 0, width, h, width))).ToArray();
        var keep = new List<nint>();
        try
        {
            var bytes = drawn.Select(s => new ExpertSlot(
                Host(HostDraw(s.Gate.Random!), DType.BF16, [width, h], keep), Host(HostDraw(s.Up.Random!), DType.BF16, [width, h], keep),
                Host(HostDraw(s.Down.Random!), DType.BF16, [h, width], keep))).ToArray();
            using var fromDraws = b.CreateExpertSet(drawn);
            using var fromBytes = b.CreateExpertSet(bytes);
            using var x = b.Upload(Random(rng, t * h), t, h);
            using var ids = b.Upload(Enumerable.Range(0, t * per).Select(i => (i * 7 + i / per) % slots).ToArray(), t, per);
            using var w = b.Upload(Random(rng, t * per), t, per);
            using var o1 = b.Allocate(DType.F32, t, h);
            using var o2 = b.Allocate(DType.F32, t, h);
            b.MoeExperts(x, ids, w, fromDraws, o1);
            b.MoeExperts(x, ids, w, fromBytes, o2);
            var got = Download(b, o1);
            Assert.Equal(Download(b, o2), got);
            Assert.Contains(got, v => v != 0);
        }
        finally { Free(keep); }
    }
}
