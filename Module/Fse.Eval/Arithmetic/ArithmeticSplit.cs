using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Fse.Eval.Arithmetic;

/// <summary>The two disjoint halves of the problem space.</summary>
public enum ArithmeticSplit
{
    /// <summary>About 90% of the canonical keys: training data and few-shot examples.</summary>
    Train,
    /// <summary>About 10% of the canonical keys: the held-out problems that are scored.</summary>
    Test,
}

/// <summary>
/// Assigns a problem to a split by its canonical key alone (SHA-256 of the key, the first 8 bytes little-endian, modulo
/// 10: 0 is test). The assignment depends on neither the seed nor the names and objects in the text, so no test
/// problem's arithmetic appears in any training set, whatever seeds made them.
/// </summary>
public static class ArithmeticSplits
{
    public const int TestBuckets = 1;
    public const int Buckets = 10;

    public static ArithmeticSplit Of(string key)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        return BinaryPrimitives.ReadUInt64LittleEndian(hash) % Buckets < TestBuckets ? ArithmeticSplit.Test : ArithmeticSplit.Train;
    }
}
