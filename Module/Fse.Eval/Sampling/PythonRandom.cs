using System.Numerics;

namespace Fse.Eval.Sampling;

/// <summary>
/// CPython's <c>random.Random</c>, bit for bit: the MT19937 generator seeded the way <c>random.seed(int)</c> seeds it
/// (<c>init_by_array</c> over the absolute value's 32-bit words, least significant first), <c>getrandbits</c>,
/// <c>random()</c>, <c>_randbelow</c> and <c>sample</c>. lm-eval draws few-shot examples with
/// <c>random.Random(1234).sample(...)</c>; reproducing the stream exactly is what makes prompts byte-identical.
/// </summary>
public sealed class PythonRandom
{
    private const int N = 624;
    private const int M = 397;
    private const uint MatrixA = 0x9908b0dfu;
    private const uint UpperMask = 0x80000000u;
    private const uint LowerMask = 0x7fffffffu;

    private readonly uint[] _mt = new uint[N];
    private int _index = N + 1;

    /// <summary>Seeds like <c>random.Random(seed)</c> for an int seed (negative seeds use their absolute value, as CPython does).</summary>
    public PythonRandom(BigInteger seed)
    {
        var magnitude = BigInteger.Abs(seed);
        var bytes = magnitude.ToByteArray(isUnsigned: true, isBigEndian: false);
        int words = Math.Max(1, (bytes.Length + 3) / 4);
        var key = new uint[words];
        for (int i = 0; i < bytes.Length; i++) key[i / 4] |= (uint)bytes[i] << (8 * (i % 4));
        InitByArray(key);
    }

    public PythonRandom(long seed) : this(new BigInteger(seed)) { }

    /// <summary>The next raw 32-bit output (<c>genrand_uint32</c>).</summary>
    public uint NextUInt32()
    {
        if (_index >= N) Twist();
        uint y = _mt[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    /// <summary><c>random.random()</c>: a double in [0, 1) from 53 random bits.</summary>
    public double NextDouble()
    {
        uint a = NextUInt32() >> 5, b = NextUInt32() >> 6;
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
    }

    /// <summary><c>random.getrandbits(k)</c> for 0 ≤ k ≤ 64 (words fill from the least significant end, as CPython's do).</summary>
    public ulong GetRandBits(int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, 64);
        if (k == 0) return 0;
        if (k <= 32) return NextUInt32() >> (32 - k);
        ulong low = NextUInt32();
        ulong high = NextUInt32() >> (64 - k);
        return low | (high << 32);
    }

    /// <summary><c>random._randbelow(n)</c> (the getrandbits method): rejection sampling on n.bit_length() bits.</summary>
    public long RandBelow(long n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        int k = 64 - BitOperations.LeadingZeroCount((ulong)n);
        ulong r = GetRandBits(k);
        while (r >= (ulong)n) r = GetRandBits(k);
        return (long)r;
    }

    /// <summary>
    /// <c>random.sample(range(n), k)</c>: k distinct indices in selection order. Like CPython, a population no larger
    /// than the small-set threshold is drawn from a shrinking pool; a larger one by rejection against a set of picks.
    /// The two branches consume the stream differently, so the choice must match CPython's exactly.
    /// </summary>
    public int[] SampleIndices(int n, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (k < 0 || k > n) throw new ArgumentOutOfRangeException(nameof(k), "Sample larger than population or is negative");
        var result = new int[k];
        if (n <= SetSizeThreshold(k))
        {
            var pool = new int[n];
            for (int i = 0; i < n; i++) pool[i] = i;
            for (int i = 0; i < k; i++)
            {
                int j = (int)RandBelow(n - i);
                result[i] = pool[j];
                pool[j] = pool[n - i - 1];
            }
        }
        else
        {
            var selected = new HashSet<int>();
            for (int i = 0; i < k; i++)
            {
                int j = (int)RandBelow(n);
                while (selected.Contains(j)) j = (int)RandBelow(n);
                selected.Add(j);
                result[i] = j;
            }
        }
        return result;
    }

    /// <summary><c>random.sample(population, k)</c>.</summary>
    public T[] Sample<T>(IReadOnlyList<T> population, int k) =>
        [.. SampleIndices(population.Count, k).Select(i => population[i])];

    /// <summary>CPython's <c>setsize</c>: 21, plus <c>4 ** ceil(log(3k, 4))</c> when k &gt; 5.</summary>
    internal static long SetSizeThreshold(int k)
    {
        long setsize = 21;
        if (k > 5) setsize += (long)Math.Pow(4, Math.Ceiling(Math.Log(k * 3) / Math.Log(4)));
        return setsize;
    }

    private void InitGenrand(uint s)
    {
        _mt[0] = s;
        for (int i = 1; i < N; i++)
            _mt[i] = 1812433253u * (_mt[i - 1] ^ (_mt[i - 1] >> 30)) + (uint)i;
        _index = N;
    }

    private void InitByArray(uint[] key)
    {
        InitGenrand(19650218u);
        int i = 1, j = 0;
        for (int k = Math.Max(N, key.Length); k > 0; k--)
        {
            _mt[i] = (_mt[i] ^ ((_mt[i - 1] ^ (_mt[i - 1] >> 30)) * 1664525u)) + key[j] + (uint)j;
            i++; j++;
            if (i >= N) { _mt[0] = _mt[N - 1]; i = 1; }
            if (j >= key.Length) j = 0;
        }
        for (int k = N - 1; k > 0; k--)
        {
            _mt[i] = (_mt[i] ^ ((_mt[i - 1] ^ (_mt[i - 1] >> 30)) * 1566083941u)) - (uint)i;
            i++;
            if (i >= N) { _mt[0] = _mt[N - 1]; i = 1; }
        }
        _mt[0] = 0x80000000u;
    }

    private void Twist()
    {
        for (int kk = 0; kk < N; kk++)
        {
            uint y = (_mt[kk] & UpperMask) | (_mt[(kk + 1) % N] & LowerMask);
            _mt[kk] = _mt[(kk + M) % N] ^ (y >> 1) ^ ((y & 1u) != 0 ? MatrixA : 0u);
        }
        _index = 0;
    }
}
