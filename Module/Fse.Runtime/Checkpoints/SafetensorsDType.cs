namespace Fse.Runtime.Checkpoints;

/// <summary>The safetensors element types the runtime reads and writes.</summary>
public enum SafetensorsDType
{
    F32,
    F16,
    BF16,
}

public static class SafetensorsDTypes
{
    public static int BytesPerElement(this SafetensorsDType t) => t == SafetensorsDType.F32 ? 4 : 2;

    /// <summary>The name safetensors headers use: <c>F32</c>, <c>F16</c>, <c>BF16</c>.</summary>
    public static string HeaderName(this SafetensorsDType t) => t switch
    {
        SafetensorsDType.F32 => "F32",
        SafetensorsDType.F16 => "F16",
        SafetensorsDType.BF16 => "BF16",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>The name config.json uses: <c>float32</c>, <c>float16</c>, <c>bfloat16</c>.</summary>
    public static string ConfigName(this SafetensorsDType t) => t switch
    {
        SafetensorsDType.F32 => "float32",
        SafetensorsDType.F16 => "float16",
        SafetensorsDType.BF16 => "bfloat16",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    public static bool TryParseHeaderName(string name, out SafetensorsDType dtype)
    {
        switch (name)
        {
            case "F32": dtype = SafetensorsDType.F32; return true;
            case "F16": dtype = SafetensorsDType.F16; return true;
            case "BF16": dtype = SafetensorsDType.BF16; return true;
            default: dtype = default; return false;
        }
    }

    /// <summary>Parses a config.json dtype name (<c>float32</c>, <c>float16</c>, <c>bfloat16</c>).</summary>
    public static SafetensorsDType FromConfigName(string name) => name switch
    {
        "float32" => SafetensorsDType.F32,
        "float16" => SafetensorsDType.F16,
        "bfloat16" => SafetensorsDType.BF16,
        _ => throw new ArgumentException($"Unknown dtype '{name}'; supported: {string.Join(", ", DTypeInfo.Names)}.", nameof(name)),
    };
}
