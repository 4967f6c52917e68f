using System.Collections.ObjectModel;
using System.Numerics.Tensors;
using Deisa.Engine.Head;
using Deisa.Model;

namespace Deisa.Analytics;

/// <summary>
/// One rank's block of a <see cref="DistributedArray"/>, read in place from shared memory.
/// <see cref="AsTensorSpan{T}"/> is a read-only view with the simulation's index order:
/// element [i, j, ...] of the view is the element the simulation calls (i, j, ...) (0-based) in
/// its own language; a Fortran-ordered block is a strided view (first index fastest), never a
/// transposed copy. The view is valid while the array is in some window of the analytics
/// (see <see cref="DistributedArray.IsReleased"/>).
/// </summary>
public sealed unsafe class ArrayBlock
{
    /// <summary>Pieces of at most this many elements cover a block in <see cref="Piece{T}"/>.</summary>
    internal const int MaxPiece = 1 << 30;

    private readonly DistributedArray _array;
    private readonly nint _address;
    private readonly nint[] _lengths;
    private readonly nint[] _strides;

    internal ArrayBlock(DistributedArray array, BlockView view, nint address, long[] offset)
    {
        _array = array;
        _address = address;
        Lease = view.Lease;
        Position = System.Array.AsReadOnly(view.Position.ToArray());
        Shape = System.Array.AsReadOnly(view.Shape.ToArray());
        Offset = System.Array.AsReadOnly(offset);
        Rank = view.Rank;
        Order = view.Order;
        Length = Model.Shape.Count(view.Shape);
        long expected = Length * DTypes.ItemSize(array.DType);
        if (view.NBytes != expected)
            throw new DeisaException(DeisaStatus.Internal,
                $"block of '{array.Name}' at timestep {array.Timestep} from rank {Rank}: {view.NBytes} bytes for shape {Model.Shape.Format(view.Shape)} of {DTypes.NumpyName(array.DType)} (expected {expected})");
        _lengths = ElementStrides.Lengths(view.Shape);
        _strides = ElementStrides.Of(view.Shape, view.Order);
    }

    /// <summary>Position of the block in the block grid (one index per dimension).</summary>
    public ReadOnlyCollection<long> Position { get; }

    /// <summary>Shape of the block.</summary>
    public ReadOnlyCollection<long> Shape { get; }

    /// <summary>Index of the block's first element in the global array.</summary>
    public ReadOnlyCollection<long> Offset { get; }

    /// <summary>The simulation rank that sent the block.</summary>
    public int Rank { get; }

    /// <summary>How the block's elements lie in memory (as the simulation declared them).</summary>
    public MemoryOrder Order { get; }

    /// <summary>Number of elements.</summary>
    public long Length { get; }

    /// <summary>The array this block belongs to.</summary>
    public DistributedArray Array => _array;

    /// <summary>The lease the analytics holds on the block's shared memory.</summary>
    internal long Lease { get; }

    /// <summary>
    /// A read-only view of the block, in place in shared memory, with the block's
    /// <see cref="Shape"/> and the simulation's index order (strided for Fortran order).
    /// </summary>
    /// <typeparam name="T">The .NET type of the array's dtype (e.g. <c>double</c> for float64).</typeparam>
    /// <exception cref="DeisaException">Another element type (<see cref="DeisaStatus.Type"/>;
    /// the message names the array and both types).</exception>
    /// <exception cref="ObjectDisposedException">The array left every window and its memory was released.</exception>
    public ReadOnlyTensorSpan<T> AsTensorSpan<T>() where T : unmanaged
    {
        Check<T>();
        return new ReadOnlyTensorSpan<T>((T*)_address, checked((nint)Length), _lengths, _strides);
    }

    /// <summary>
    /// The block's elements as they lie in memory (C order, or Fortran order for a Fortran
    /// block): the input for <see cref="TensorPrimitives"/> when the order does not matter
    /// (sums, extrema, element-wise operations between blocks of the same layout).
    /// </summary>
    /// <typeparam name="T">The .NET type of the array's dtype.</typeparam>
    /// <exception cref="DeisaException">Another element type (<see cref="DeisaStatus.Type"/>).</exception>
    /// <exception cref="ObjectDisposedException">The array's memory was released.</exception>
    /// <exception cref="InvalidOperationException">The block has more than <see cref="int.MaxValue"/> elements (use <see cref="AsTensorSpan{T}"/>).</exception>
    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged
    {
        Check<T>();
        if (Length > int.MaxValue)
            throw new InvalidOperationException($"block {Model.Shape.Format(Position)} of '{_array.Name}' has {Length} elements, more than a span holds; use AsTensorSpan");
        return new ReadOnlySpan<T>((void*)_address, (int)Length);
    }

    /// <summary>Number of pieces of at most <see cref="MaxPiece"/> elements that cover the block's memory.</summary>
    internal int PieceCount => (int)((Length + MaxPiece - 1) / MaxPiece);

    /// <summary>Piece <paramref name="index"/> of the block's memory (memory order); the type was checked by the caller.</summary>
    internal ReadOnlySpan<T> Piece<T>(int index) where T : unmanaged
    {
        long start = (long)index * MaxPiece;
        int count = (int)Math.Min(MaxPiece, Length - start);
        return new ReadOnlySpan<T>((T*)_address + start, count);
    }

    /// <summary>Element (i, j, ...) of the block, by block-local indices already checked by the caller.</summary>
    internal T At<T>(ReadOnlySpan<long> local) where T : unmanaged
    {
        long linear = 0;
        for (int d = 0; d < local.Length; d++) linear += local[d] * _strides[d];
        return ((T*)_address)[linear];
    }

    private void Check<T>() where T : unmanaged
    {
        _array.ThrowIfReleased();
        ElementType.Check<T>(_array.DType, $"array '{_array.Name}' at timestep {_array.Timestep}");
    }

    /// <summary>"block (0, 1) of 'temperature' at timestep 3 from rank 1, shape (64, 64)".</summary>
    public override string ToString() =>
        $"block {Model.Shape.Format(Position)} of '{_array.Name}' at timestep {_array.Timestep} from rank {Rank}, shape {Model.Shape.Format(Shape)}";
}
