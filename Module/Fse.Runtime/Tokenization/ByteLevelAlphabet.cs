namespace Fse.Runtime.Tokenization;

/// <summary>
/// GPT-2's byte-to-character table, as HF's ByteLevel pre-tokenizer and decoder use it: printable bytes map to
/// themselves (as Latin-1 characters), the other 68 bytes to U+0100 and up, so every byte is a visible character.
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = Build();
    private static readonly Dictionary<char, byte> CharToByte = ByteToChar.Select((c, b) => (c, b)).ToDictionary(x => x.c, x => (byte)x.b);

    /// <summary>The character that stands for <paramref name="b"/>.</summary>
    public static char CharOf(byte b) => ByteToChar[b];

    /// <summary>The byte a character stands for, when it is one of the 256 characters of the alphabet.</summary>
    public static bool TryByteOf(char c, out byte b) => CharToByte.TryGetValue(c, out b);

    /// <summary>The 256 characters in byte order.</summary>
    public static ReadOnlySpan<char> Characters => ByteToChar;

    /// <summary>The byte-level string of some UTF-8 bytes.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (span, b) =>
        {
            for (var i = 0; i < b.Length; i++) span[i] = ByteToChar[b[i]];
        });
    }

    /// <summary>
    /// The bytes of a token as HF's ByteLevel decoder takes them: the alphabet's bytes when every character is in
    /// the alphabet, else the token's own UTF-8 bytes (added tokens such as "&lt;|im_end|&gt;" are plain text).
    /// </summary>
    public static byte[] DecodeToken(string token)
    {
        var bytes = new byte[token.Length];
        for (var i = 0; i < token.Length; i++)
        {
            if (!CharToByte.TryGetValue(token[i], out bytes[i])) return System.Text.Encoding.UTF8.GetBytes(token);
        }
        return bytes;
    }

    private static char[] Build()
    {
        var map = new char[256];
        var assigned = new bool[256];
        for (var b = '!'; b <= '~'; b++) { map[b] = b; assigned[b] = true; }
        for (var b = 0xA1; b <= 0xAC; b++) { map[b] = (char)b; assigned[b] = true; }
        for (var b = 0xAE; b <= 0xFF; b++) { map[b] = (char)b; assigned[b] = true; }
        var n = 0;
        for (var b = 0; b < 256; b++)
        {
            if (assigned[b]) continue;
            map[b] = (char)(256 + n++);
        }
        return map;
    }
}
