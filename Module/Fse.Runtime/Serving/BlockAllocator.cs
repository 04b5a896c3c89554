namespace Fse.Runtime.Serving;

/// <summary>
/// A free list of fixed-size resources (KV-cache blocks, linear-attention state slots) identified by 0..Capacity-1.
/// Not thread-safe: the engine thread owns it.
/// </summary>
internal sealed class BlockAllocator
{
    private readonly Stack<int> _free;
    private readonly bool[] _inUse;

    public BlockAllocator(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _inUse = new bool[capacity];
        // Lowest ids first, so a fresh engine hands out 0, 1, 2, ...
        _free = new Stack<int>(Enumerable.Range(0, capacity).Reverse());
    }

    public int Capacity { get; }

    public int FreeCount => _free.Count;

    public int UsedCount => Capacity - _free.Count;

    public int Allocate()
    {
        if (_free.Count == 0) throw new InvalidOperationException("No free block is left: check FreeCount first.");
        int id = _free.Pop();
        _inUse[id] = true;
        return id;
    }

    public void Free(int id)
    {
        if ((uint)id >= (uint)Capacity || !_inUse[id]) throw new InvalidOperationException($"Block {id} is not in use.");
        _inUse[id] = false;
        _free.Push(id);
    }

    public void Free(List<int> ids)
    {
        foreach (var id in ids) Free(id);
        ids.Clear();
    }
}
