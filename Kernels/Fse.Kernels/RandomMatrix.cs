using System.Runtime.InteropServices;

namespace Fse.Kernels;

/// <summary>
/// A block of rows of a <see cref="RandomMatrix"/>: row <c>r</c>, column <c>c</c> is element
/// <c>Offset + r·Stride + c</c> of the <see cref="CounterNormal"/> draw with <see cref="Key"/> and <see cref="Scale"/>
/// where <c>r &lt; ValidRows</c> and <c>c &lt; ValidCols</c>, and zero elsewhere (the padding of a chunk).
/// </summary>
public readonly record struct RandomRows(ulong Key, float Scale, long Offset, long Stride, int Rows, int ValidRows, int ValidCols);

/// <summary>
/// A weight matrix [rows, cols] that is not in memory anywhere yet: zero-mean counter-based normal draws cast to
/// <see cref="DType"/>, stacked from blocks of rows that are windows of source tensors' draws. A backend makes it in its
/// own memory (<see cref="IBackend.Upload(RandomMatrix)"/>), so a preset's weights never pass through host memory on a
/// device. Windows, row gathers and row concatenations of source tensors stay in this form, which is how the weight plan
/// (FSE slots, fused router gate, projection row orders) applies to generated weights as to a checkpoint's.
/// </summary>
public sealed class RandomMatrix
{
    private readonly RandomRows[] _parts;

    private RandomMatrix(DType dtype, int cols, RandomRows[] parts)
    {
        if (dtype is not (DType.F32 or DType.F16 or DType.BF16)) throw new ArgumentException($"Random weights must be F32, F16 or BF16, not {dtype}.");
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        DType = dtype;
        Cols = cols;
        _parts = parts;
        foreach (var p in parts)
        {
            if (p.ValidRows < 0 || p.ValidRows > p.Rows || p.ValidCols < 0 || p.ValidCols > cols || p.Offset < 0 || p.Stride < 0)
                throw new ArgumentException($"A random block of {p.Rows} rows × {cols} columns cannot have {p.ValidRows} × {p.ValidCols} valid values at offset {p.Offset}, stride {p.Stride}.");
            Rows = checked(Rows + p.Rows);
        }
    }

    /// <summary>A whole source tensor's draws as a [rows, cols] matrix.</summary>
    public static RandomMatrix Whole(DType dtype, int rows, int cols, ulong key, float scale) =>
        new(dtype, cols, [new RandomRows(key, scale, 0, cols, rows, rows, cols)]);

    public DType DType { get; }
    public int Rows { get; }
    public int Cols { get; }
    public IReadOnlyList<RandomRows> Parts => _parts;
    public long ElementCount => (long)Rows * Cols;

    /// <summary>
    /// Rows [rowStart, rowStart + rowCount) and columns [colStart, colStart + colCount) as a [rows, cols] matrix, zero-padded
    /// below and to the right; the window must lie inside one block's values.
    /// </summary>
    public RandomMatrix Window(int rowStart, int rowCount, int colStart, int colCount, int rows, int cols)
    {
        if (rowCount > rows || colCount > cols || colStart < 0 || colStart + colCount > Cols)
            throw new ArgumentOutOfRangeException(nameof(rowCount), $"A window of {rowCount} × {colCount} at ({rowStart}, {colStart}) does not fit a [{rows}, {cols}] result of a [{Rows}, {Cols}] matrix.");
        var (p, local) = Block(rowStart, rowCount);
        if (local + rowCount > p.ValidRows || colStart + colCount > p.ValidCols)
            throw new ArgumentOutOfRangeException(nameof(rowStart), $"Rows [{rowStart}, {rowStart + rowCount}) × columns [{colStart}, {colStart + colCount}) reach into padding.");
        return new(DType, cols, [new RandomRows(p.Key, p.Scale, p.Offset + local * p.Stride + colStart, p.Stride, rows, rowCount, colCount)]);
    }

    /// <summary>The rows listed, in that order (runs of consecutive rows stay one block).</summary>
    public RandomMatrix GatherRows(IReadOnlyList<int> rows)
    {
        var parts = new List<RandomRows>();
        for (int i = 0; i < rows.Count;)
        {
            int run = 1;
            while (i + run < rows.Count && rows[i + run] == rows[i] + run) run++;
            // A run may cross blocks; cut it at block ends.
            int start = rows[i], left = run;
            while (left > 0)
            {
                var (p, local) = Block(start, 1);
                int take = Math.Min(left, p.Rows - local);
                if (local + take > p.ValidRows) throw new ArgumentOutOfRangeException(nameof(rows), $"Row {start} of a [{Rows}, {Cols}] random matrix is padding.");
                parts.Add(p with { Offset = p.Offset + local * p.Stride, Rows = take, ValidRows = take });
                start += take;
                left -= take;
            }
            i += run;
        }
        return new(DType, Cols, [.. parts]);
    }

    /// <summary>Matrices of one dtype and width stacked along rows.</summary>
    public static RandomMatrix ConcatRows(IReadOnlyList<RandomMatrix> parts)
    {
        if (parts.Count == 0) throw new ArgumentException("Nothing to concatenate.", nameof(parts));
        if (parts.Any(p => p.DType != parts[0].DType || p.Cols != parts[0].Cols))
            throw new ArgumentException("Concatenated random matrices must share dtype and columns.", nameof(parts));
        return new(parts[0].DType, parts[0].Cols, [.. parts.SelectMany(p => p._parts)]);
    }

    /// <summary>
    /// Writes the matrix's bytes (row-major, in <see cref="DType"/>) on the host: the reference a device's generator matches
    /// bit for bit. Large matrices are split over the cores.
    /// </summary>
    public void WriteTo(Span<byte> destination)
    {
        long bytes = ElementCount * DType.Size();
        if (destination.Length < bytes) throw new ArgumentException($"The destination holds {destination.Length} bytes; {bytes} are needed.", nameof(destination));
        long row = 0;
        foreach (var p in _parts)
        {
            WriteBlock(p, destination.Slice(checked((int)(row * Cols * DType.Size())), checked(p.Rows * Cols * DType.Size())));
            row += p.Rows;
        }
    }

    private unsafe void WriteBlock(RandomRows p, Span<byte> destination)
    {
        int cols = Cols;
        var dtype = DType;
        const int RowsPerTask = 64;
        fixed (byte* basePtr = destination)
        {
            nint dst = (nint)basePtr;
            int tasks = (p.Rows + RowsPerTask - 1) / RowsPerTask;
            void Rows(int task)
            {
                int end = Math.Min(p.Rows, (task + 1) * RowsPerTask);
                for (int r = task * RowsPerTask; r < end; r++)
                {
                    long first = p.Offset + r * p.Stride;
                    for (int c = 0; c < cols; c++)
                    {
                        float v = r < p.ValidRows && c < p.ValidCols ? CounterNormal.Value(p.Key, first + c, p.Scale) : 0f;
                        long i = (long)r * cols + c;
                        switch (dtype)
                        {
                            case DType.F32: ((float*)dst)[i] = v; break;
                            case DType.BF16: ((ushort*)dst)[i] = Bf16.FromF32(v); break;
                            default: ((Half*)dst)[i] = (Half)v; break;
                        }
                    }
                }
            }
            if ((long)p.Rows * cols < 1 << 16) for (int t = 0; t < tasks; t++) Rows(t);
            else Parallel.For(0, tasks, Rows);
        }
    }

    /// <summary>The block holding rows [row, row + count) and the first row's index inside it.</summary>
    private (RandomRows Part, int Local) Block(int row, int count)
    {
        if (row < 0 || count < 1 || row + count > Rows) throw new ArgumentOutOfRangeException(nameof(row), $"Rows [{row}, {row + count}) of a [{Rows}, {Cols}] matrix.");
        int start = 0;
        foreach (var p in _parts)
        {
            if (row < start + p.Rows)
            {
                int local = row - start;
                if (local + count > p.Rows) throw new ArgumentOutOfRangeException(nameof(row), $"Rows [{row}, {row + count}) cross a block boundary of a concatenated random matrix.");
                return (p, local);
            }
            start += p.Rows;
        }
        throw new ArgumentOutOfRangeException(nameof(row), $"Row {row} of a [{Rows}, {Cols}] matrix.");
    }

    public override string ToString() => $"random {DType}[{Rows}, {Cols}] ({_parts.Length} blocks)";
}
