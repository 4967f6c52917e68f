namespace HeatSimulation;

/// <summary>
/// A 2-D block decomposition of the plate over the ranks, as MPI_Dims_create and a row-major
/// Cartesian communicator would make it: a grid of <see cref="GridRows"/> x
/// <see cref="GridColumns"/> blocks, as square as possible; blocks differ by at most one cell
/// per dimension when the plate does not divide evenly.
/// </summary>
internal sealed record Decomposition(int GridRows, int GridColumns, int Row, int Column,
    int BlockRows, int BlockColumns, int RowOffset, int ColumnOffset)
{
    public static Decomposition Of(int rank, int worldSize, int rows, int columns)
    {
        // The factor pair of worldSize closest to a square, the larger one first (MPI_Dims_create).
        int gridColumns = (int)Math.Sqrt(worldSize);
        while (worldSize % gridColumns != 0) gridColumns--;
        int gridRows = worldSize / gridColumns;
        if (gridRows > rows || gridColumns > columns)
            throw new ArgumentException($"a {gridRows}x{gridColumns} decomposition does not fit a {rows}x{columns} plate");
        int row = rank / gridColumns, column = rank % gridColumns;
        var (blockRows, rowOffset) = Split(rows, gridRows, row);
        var (blockColumns, columnOffset) = Split(columns, gridColumns, column);
        return new Decomposition(gridRows, gridColumns, row, column, blockRows, blockColumns, rowOffset, columnOffset);
    }

    /// <summary>Size and offset of block <paramref name="index"/> when <paramref name="n"/> cells are split into <paramref name="parts"/> near-equal blocks.</summary>
    private static (int Size, int Offset) Split(int n, int parts, int index)
    {
        int size = n / parts, extra = n % parts;
        return (size + (index < extra ? 1 : 0), index * size + Math.Min(index, extra));
    }
}
