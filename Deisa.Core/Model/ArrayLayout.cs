
namespace Deisa.Model;

/// <summary>
/// The layout of one distributed array once every rank has registered: global shape, the
/// rectilinear block grid (block sizes per grid line of each dimension), which rank owns which
/// block, and the declared dtype. Built and validated by <see cref="Build"/>.
/// </summary>
public sealed class ArrayLayout
{
    private readonly Dictionary<string, BlockDeclaration> _byPosition;

    private ArrayLayout(string name, long[] globalShape, long[][] chunks, DType dtype,
        Dictionary<string, BlockDeclaration> byPosition)
    {
        Name = name;
        GlobalShape = globalShape;
        Chunks = chunks;
        DType = dtype;
        _byPosition = byPosition;
        Blocks = byPosition.Values.OrderBy(b => b.Rank).ToArray();
    }

    /// <summary>Array name.</summary>
    public string Name { get; }

    /// <summary>Shape of the whole array.</summary>
    public long[] GlobalShape { get; }

    /// <summary>For each dimension, the sizes of the blocks along it (Dask's <c>chunks</c>).</summary>
    public long[][] Chunks { get; }

    /// <summary>Declared dtype, or <see cref="DType.Undeclared"/> when the first send decides.</summary>
    public DType DType { get; }

    /// <summary>Every block, ordered by rank.</summary>
    public IReadOnlyList<BlockDeclaration> Blocks { get; }

    /// <summary>Number of blocks.</summary>
    public int BlockCount => Blocks.Count;

    /// <summary>The ranks that own a block, ascending.</summary>
    public IEnumerable<int> Ranks => Blocks.Select(b => b.Rank);

    /// <summary>The block a rank owns, or null.</summary>
    public BlockDeclaration? BlockOf(int rank) => Blocks.FirstOrDefault(b => b.Rank == rank);

    /// <summary>The block at a grid position, or null.</summary>
    public BlockDeclaration? BlockAt(IReadOnlyList<long> position) =>
        _byPosition.GetValueOrDefault(Shape.Key(position));

    /// <summary>
    /// Builds the layout of one array from the declarations of all ranks that own a block of it,
    /// and checks that the blocks tile the global shape on a rectilinear grid. Errors name the
    /// array and the ranks involved.
    /// </summary>
    public static ArrayLayout Build(string name, IReadOnlyList<BlockDeclaration> declarations)
    {
        if (declarations.Count == 0) throw DeisaException.Value($"array '{name}': no rank declares it");
        var first = declarations[0];
        int ndim = first.NDim;
        DType dtype = DType.Undeclared;
        int dtypeRank = -1;
        foreach (var d in declarations)
        {
            if (!Shape.Equal(d.GlobalShape, first.GlobalShape))
                throw DeisaException.Value(
                    $"array '{name}': ranks {first.Rank} and {d.Rank} disagree on global_shape " +
                    $"({Shape.Format(first.GlobalShape)} and {Shape.Format(d.GlobalShape)})");
            if (d.DType != DType.Undeclared)
            {
                if (dtype != DType.Undeclared && d.DType != dtype)
                    throw DeisaException.Type(
                        $"array '{name}': ranks {dtypeRank} and {d.Rank} declare different dtypes " +
                        $"({DTypes.NumpyName(dtype)} and {DTypes.NumpyName(d.DType)})");
                dtype = d.DType;
                dtypeRank = d.Rank;
            }
        }

        // Overlap of identical positions.
        var byPosition = new Dictionary<string, BlockDeclaration>();
        foreach (var d in declarations)
        {
            var key = Shape.Key(d.Position);
            if (byPosition.TryGetValue(key, out var other))
                throw DeisaException.Value(
                    $"array '{name}': ranks {other.Rank} and {d.Rank} both declare the block at chunk_position {Shape.Format(d.Position)} (overlap)");
            byPosition[key] = d;
        }

        // Grid lines: every block in one grid line of dimension k has the same size along k.
        var chunks = new long[ndim][];
        for (int k = 0; k < ndim; k++)
        {
            var sizeAt = new SortedDictionary<long, BlockDeclaration>();
            foreach (var d in declarations)
            {
                long p = d.Position[k];
                if (sizeAt.TryGetValue(p, out var o))
                {
                    if (o.ChunkShape[k] != d.ChunkShape[k])
                        throw DeisaException.Value(
                            $"array '{name}': blocks in grid line {p} of dimension {k} disagree on its size: " +
                            $"rank {o.Rank} has {o.ChunkShape[k]}, rank {d.Rank} has {d.ChunkShape[k]}");
                }
                else sizeAt[p] = d;
            }
            long n = sizeAt.Keys.Max() + 1;
            for (long p = 0; p < n; p++)
                if (!sizeAt.ContainsKey(p))
                    throw DeisaException.Value(
                        $"array '{name}': no rank declares a block in grid line {p} of dimension {k} (hole)");
            long total = sizeAt.Values.Sum(d => d.ChunkShape[k]);
            if (total != first.GlobalShape[k])
            {
                var who = string.Join(", ", sizeAt.Select(kv => $"line {kv.Key}: {kv.Value.ChunkShape[k]} (rank {kv.Value.Rank})"));
                throw DeisaException.Value(
                    $"array '{name}': blocks along dimension {k} cover {total} cells but global_shape has {first.GlobalShape[k]} " +
                    $"({(total > first.GlobalShape[k] ? "overlap" : "hole")}; {who})");
            }
            chunks[k] = sizeAt.Values.Select(d => d.ChunkShape[k]).ToArray();
        }

        // Holes: every position of the grid is owned.
        long expected = 1;
        foreach (var c in chunks) expected *= c.Length;
        if (expected != declarations.Count)
        {
            var missing = new List<string>();
            foreach (var pos in EnumeratePositions(chunks.Select(c => (long)c.Length).ToArray()))
                if (!byPosition.ContainsKey(Shape.Key(pos)))
                {
                    missing.Add(Shape.Format(pos));
                    if (missing.Count == 8) { missing.Add("..."); break; }
                }
            throw DeisaException.Value(
                $"array '{name}': no rank declares the blocks at chunk_position {string.Join(", ", missing)} (hole)");
        }
        return new ArrayLayout(name, first.GlobalShape, chunks, dtype, byPosition);
    }

    private static IEnumerable<long[]> EnumeratePositions(long[] counts)
    {
        var pos = new long[counts.Length];
        while (true)
        {
            yield return (long[])pos.Clone();
            int k = counts.Length - 1;
            while (k >= 0 && ++pos[k] == counts[k]) { pos[k] = 0; k--; }
            if (k < 0) yield break;
        }
    }
}
