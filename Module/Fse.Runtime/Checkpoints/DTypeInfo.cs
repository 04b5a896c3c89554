namespace Fse.Runtime.Checkpoints;

/// <summary>Names and sizes of the tensor element types a checkpoint may declare.</summary>
public static class DTypeInfo
{
    public static readonly IReadOnlyList<string> Names = ["float32", "float16", "bfloat16"];

    public static bool IsKnown(string name) => Names.Contains(name);

    public static int BytesPerElement(string name) => name switch
    {
        "float32" => 4,
        "float16" or "bfloat16" => 2,
        _ => throw new ArgumentException($"Unknown dtype '{name}'.", nameof(name)),
    };
}
