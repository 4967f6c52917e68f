
namespace Deisa.Model;

/// <summary>
/// What one rank declares about its block of one array: the array's global shape, the block's
/// shape and its position in the block grid, the dtype (or <see cref="DType.Undeclared"/>) and
/// the block's memory order.
/// </summary>
public sealed record BlockDeclaration(
    int Rank,
    string Array,
    long[] GlobalShape,
    long[] ChunkShape,
    long[] Position,
    DType DType = DType.Undeclared,
    MemoryOrder Order = MemoryOrder.C)
{
    /// <summary>Number of dimensions.</summary>
    public int NDim => GlobalShape.Length;

    /// <summary>Bytes of the block, once the dtype is known.</summary>
    public long BlockBytes(DType dtype) => checked(Shape.Count(ChunkShape) * DTypes.ItemSize(dtype));

    /// <summary>Checks that a block has the declared chunk shape; the error names both shapes.</summary>
    public void CheckShape(ReadOnlySpan<long> shape)
    {
        if (!shape.SequenceEqual(ChunkShape))
            throw DeisaException.Value($"array '{Array}': block shape {Shape.Format(shape.ToArray())} does not match chunk_shape {Shape.Format(ChunkShape)} of rank {Rank}");
    }

    /// <summary>
    /// Checks a block sent for this declaration: its shape (the chunk shape), its dtype (a
    /// defined one), its memory order and its size in bytes (the shape's elements times the
    /// dtype's size). Errors name the array and what differs. Every door's sends meet this
    /// check where the block is received, so a malformed request never corrupts an array.
    /// </summary>
    public void CheckBlock(DType dtype, ReadOnlySpan<long> shape, MemoryOrder order, long nbytes)
    {
        CheckShape(shape);
        DTypes.CheckDefined(dtype, Array);
        if (order is not (MemoryOrder.C or MemoryOrder.Fortran)) throw DeisaException.Value($"array '{Array}': unknown memory order {(int)order}");
        long expected = BlockBytes(dtype);
        if (nbytes != expected)
            throw DeisaException.Value($"array '{Array}': block of {nbytes} bytes, expected {expected} for shape {Shape.Format(ChunkShape)} of {DTypes.NumpyName(dtype)}");
    }

    /// <summary>
    /// Checks what one rank can check alone, throwing a <see cref="DeisaException"/> that names
    /// the array and the key at fault.
    /// </summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(Array))
            throw DeisaException.Value("array name must be a non-empty string");
        Shape.CheckDimensions(GlobalShape.Length, $"array '{Array}': global_shape");
        if (ChunkShape.Length != GlobalShape.Length || Position.Length != GlobalShape.Length)
            throw DeisaException.Value(
                $"array '{Array}': global_shape, chunk_shape and chunk_position must have the same length " +
                $"(got {GlobalShape.Length}, {ChunkShape.Length} and {Position.Length})");
        for (int d = 0; d < GlobalShape.Length; d++)
        {
            if (GlobalShape[d] <= 0)
                throw DeisaException.Value($"array '{Array}': global_shape {Shape.Format(GlobalShape)} must be positive in every dimension");
            if (ChunkShape[d] <= 0)
                throw DeisaException.Value($"array '{Array}': chunk_shape {Shape.Format(ChunkShape)} must be positive in every dimension");
            if (ChunkShape[d] > GlobalShape[d])
                throw DeisaException.Value($"array '{Array}': chunk_shape {Shape.Format(ChunkShape)} is larger than global_shape {Shape.Format(GlobalShape)} in dimension {d}");
            if (Position[d] < 0)
                throw DeisaException.Value($"array '{Array}': chunk_position {Shape.Format(Position)} must not be negative");
            // Each earlier block along d holds at least one cell, so a position past this bound
            // cannot fit in the grid whatever the other ranks declare.
            if (Position[d] > GlobalShape[d] - ChunkShape[d])
                throw DeisaException.Value($"array '{Array}': chunk_position {Shape.Format(Position)} is outside the block grid of global_shape {Shape.Format(GlobalShape)} with chunk_shape {Shape.Format(ChunkShape)}");
        }
        if (DType != DType.Undeclared && !DTypes.IsDefined(DType))
            throw DeisaException.Type($"array '{Array}': unknown dtype code {(int)DType}");
        if (Order is not (MemoryOrder.C or MemoryOrder.Fortran))
            throw DeisaException.Value($"array '{Array}': unknown memory order {(int)Order}");
        // At most 2^58 elements: bytes (up to 16 per element) and their page-rounded sizes then
        // always fit in an int64, whatever the dtype.
        long count;
        try { count = Shape.Count(GlobalShape); }
        catch (OverflowException) { count = long.MaxValue; }
        if (count > AbiConstants.MaxElements)
            throw DeisaException.Value($"array '{Array}': global_shape {Shape.Format(GlobalShape)} is too large (more than 2^58 elements)");
    }
}
