namespace Fse.Runtime;

/// <summary>Whether the shared expert runs folded into the routed-expert kernel (SEMANTICS.md §2) or beside it.</summary>
public enum FseMode
{
    Off,
    On,
}
