using System.Buffers;
using System.Collections.ObjectModel;
using System.Numerics;
using System.Numerics.Tensors;
using Deisa.Engine.Head;
using Deisa.Engine.Messages;
using Deisa.Model;

namespace Deisa.Analytics;

/// <summary>
/// One distributed array at one timestep, assembled from the blocks of every rank (the C#
/// counterpart of Python's <c>DeisaArray</c>). The blocks stay in shared memory and are read in
/// place: per block through <see cref="ArrayBlock.AsTensorSpan{T}"/>, over the whole array with
/// the <see cref="TensorPrimitives"/> reductions <see cref="Sum{T}"/>, <see cref="Min{T}"/>,
/// <see cref="Max{T}"/> and <see cref="Mean{T}"/>, or copied out in C order with
/// <see cref="CopyTo{T}"/> / <see cref="ToArray{T}"/>.
/// </summary>
/// <remarks>
/// The memory stays valid while the array is in a window of some callback; once the analytics
/// drops it (or the run ends) <see cref="IsReleased"/> turns true and reading it throws
/// <see cref="ObjectDisposedException"/>. To keep values longer, copy them (<see cref="ToArray{T}"/>).
/// Every reading method takes the .NET type of the array's <see cref="DType"/> (<c>double</c>
/// for float64, <c>int</c> for int32, ...); another type throws a <see cref="DeisaException"/>
/// (<see cref="DeisaStatus.Type"/>) naming the array and both types.
/// </remarks>
public sealed class DistributedArray
{
    private readonly ArrayBlock[] _blocks;
    private readonly Dictionary<string, ArrayBlock> _byPosition = new(StringComparer.Ordinal);
    private readonly long[] _shape;
    private readonly long[][] _starts; // per dimension: global index where each grid line starts
    private int _released;

    /// <param name="ready">The head's event.</param>
    /// <param name="addressOf">Where a block lies in this process.</param>
    internal DistributedArray(ArrayReady ready, Func<BlockLocation, nint> addressOf)
    {
        Name = ready.Name;
        Timestep = ready.Timestep;
        DType = ready.DType;
        if (!DTypes.IsDefined(DType))
            throw new DeisaException(DeisaStatus.Internal, $"array '{Name}' at timestep {Timestep} arrived without a dtype");
        _shape = ready.GlobalShape.ToArray();
        GlobalShape = Array.AsReadOnly(_shape);
        Chunks = Array.AsReadOnly(ready.Chunks.Select(c => (IReadOnlyList<long>)Array.AsReadOnly(c.ToArray())).ToArray());
        Length = Shape.Count(_shape);
        _starts = Shape.Starts(ready.Chunks);
        _blocks = ready.Blocks
            .Select(b => new ArrayBlock(this, b, addressOf(b.Location), b.Position.Select((p, d) => _starts[d][p]).ToArray()))
            .OrderBy(b => b.Position, PositionOrder.Instance)
            .ToArray();
        foreach (var b in _blocks) _byPosition[Shape.Key(b.Position)] = b;
        Blocks = Array.AsReadOnly(_blocks);
    }

    /// <summary>The array's name.</summary>
    public string Name { get; }

    /// <summary>The timestep of these values.</summary>
    public long Timestep { get; }

    /// <summary>The element type.</summary>
    public DType DType { get; }

    /// <summary>Shape of the whole array.</summary>
    public ReadOnlyCollection<long> GlobalShape { get; }

    /// <summary>Number of dimensions.</summary>
    public int NDim => _shape.Length;

    /// <summary>Number of elements of the whole array.</summary>
    public long Length { get; }

    /// <summary>For each dimension, the sizes of the blocks along it (Dask's <c>chunks</c>).</summary>
    public ReadOnlyCollection<IReadOnlyList<long>> Chunks { get; }

    /// <summary>Every block, in C order of their grid positions.</summary>
    public ReadOnlyCollection<ArrayBlock> Blocks { get; }

    /// <summary>True once the analytics dropped the array: its shared memory may be reused.</summary>
    public bool IsReleased => Volatile.Read(ref _released) != 0;

    /// <summary>The block at a grid position.</summary>
    /// <exception cref="ArgumentException">No block at that position (the message names the grid).</exception>
    public ArrayBlock BlockAt(params ReadOnlySpan<long> position)
    {
        if (_byPosition.TryGetValue(Shape.Key(position.ToArray()), out var b)) return b;
        throw new ArgumentException(
            $"array '{Name}' has no block at position {Shape.Format(position.ToArray())}; its block grid is {Shape.Format(Chunks.Select(c => (long)c.Count).ToArray())}",
            nameof(position));
    }

    /// <summary>Element [i, j, ...] of the whole array (0-based global indices).</summary>
    /// <typeparam name="T">The .NET type of the array's dtype.</typeparam>
    /// <exception cref="ArgumentOutOfRangeException">Wrong number of indices, or an index outside the shape.</exception>
    public T GetValue<T>(params ReadOnlySpan<long> index) where T : unmanaged
    {
        CheckRead<T>();
        if (index.Length != NDim)
            throw new ArgumentOutOfRangeException(nameof(index), $"array '{Name}' has {NDim} dimensions, got {index.Length} indices");
        Span<long> position = stackalloc long[NDim];
        Span<long> local = stackalloc long[NDim];
        for (int d = 0; d < NDim; d++)
        {
            if (index[d] < 0 || index[d] >= _shape[d])
                throw new ArgumentOutOfRangeException(nameof(index),
                    $"index {Shape.Format(index.ToArray())} is outside array '{Name}' of shape {Shape.Format(_shape)}");
            int line = Array.BinarySearch(_starts[d], index[d]);
            if (line < 0) line = ~line - 1;
            position[d] = line;
            local[d] = index[d] - _starts[d][line];
        }
        return _byPosition[Shape.Key(position.ToArray())].At<T>(local);
    }

    /// <summary>Sum of every element (<see cref="TensorPrimitives.Sum{T}(ReadOnlySpan{T})"/> per block).
    /// Accumulates in <typeparamref name="T"/>: an integer sum larger than <typeparamref name="T"/> wraps around.</summary>
    public T Sum<T>() where T : unmanaged, INumberBase<T>
    {
        CheckRead<T>();
        return ArrayReductions.Sum<T>(_blocks);
    }

    /// <summary>Smallest element (<see cref="TensorPrimitives.Min{T}(ReadOnlySpan{T})"/>; NaN if any element is NaN).</summary>
    public T Min<T>() where T : unmanaged, INumber<T>
    {
        CheckRead<T>();
        return ArrayReductions.Min<T>(_blocks);
    }

    /// <summary>Largest element (<see cref="TensorPrimitives.Max{T}(ReadOnlySpan{T})"/>; NaN if any element is NaN).</summary>
    public T Max<T>() where T : unmanaged, INumber<T>
    {
        CheckRead<T>();
        return ArrayReductions.Max<T>(_blocks);
    }

    /// <summary>Mean of every element, as a double (integers are summed as doubles, so they do not overflow).</summary>
    public double Mean<T>() where T : unmanaged, INumber<T>
    {
        CheckRead<T>();
        return ArrayReductions.Mean<T>(_blocks, Length);
    }

    /// <summary>Copies the whole array into <paramref name="destination"/> in C order (last index fastest),
    /// whatever the blocks' memory order.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Length"/>.</exception>
    public void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        CheckRead<T>();
        if (destination.Length < Length)
            throw new ArgumentException($"array '{Name}' has {Length} elements, the destination holds {destination.Length}", nameof(destination));
        var whole = new TensorSpan<T>(destination[..(int)Length], ElementStrides.Lengths(_shape), ElementStrides.Of(_shape, MemoryOrder.C));
        var ranges = new NRange[NDim];
        foreach (var b in _blocks)
        {
            for (int d = 0; d < NDim; d++) ranges[d] = new NRange(checked((int)b.Offset[d]), checked((int)(b.Offset[d] + b.Shape[d])));
            b.AsTensorSpan<T>().CopyTo(whole.Slice(ranges));
        }
    }

    /// <summary>A copy of the whole array in C order (last index fastest).</summary>
    /// <exception cref="InvalidOperationException">The array has more elements than a .NET array holds.</exception>
    public T[] ToArray<T>() where T : unmanaged
    {
        CheckRead<T>();
        if (Length > Array.MaxLength)
            throw new InvalidOperationException($"array '{Name}' has {Length} elements, more than a .NET array holds; read it by blocks");
        var copy = GC.AllocateUninitializedArray<T>((int)Length);
        CopyTo<T>(copy);
        return copy;
    }

    /// <summary>A copy of the whole array as a <see cref="Tensor{T}"/> of shape <see cref="GlobalShape"/>.</summary>
    public Tensor<T> ToTensor<T>() where T : unmanaged => Tensor.Create(ToArray<T>(), ElementStrides.Lengths(_shape));

    /// <summary>"array 'temperature' at timestep 3: float64 (double), shape (64, 64), 4 blocks".</summary>
    public override string ToString() =>
        $"array '{Name}' at timestep {Timestep}: {ElementType.Describe(DType)}, shape {Shape.Format(_shape)}, {_blocks.Length} block{(_blocks.Length == 1 ? "" : "s")}{(IsReleased ? " (released)" : "")}";

    /// <summary>Marks the array released and gives every block's lease back, once.</summary>
    internal void Release(Action<long> releaseLease)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        foreach (var b in _blocks) releaseLease(b.Lease);
    }

    internal void ThrowIfReleased()
    {
        if (IsReleased)
            throw new ObjectDisposedException(nameof(DistributedArray),
                $"array '{Name}' at timestep {Timestep} was released (it left every window, or the run ended); copy it with ToArray to keep its values");
    }

    private void CheckRead<T>() where T : unmanaged
    {
        ThrowIfReleased();
        ElementType.Check<T>(DType, $"array '{Name}' at timestep {Timestep}");
    }

    /// <summary>Orders grid positions lexicographically (C order of the block grid).</summary>
    private sealed class PositionOrder : IComparer<IReadOnlyList<long>>
    {
        public static readonly PositionOrder Instance = new();

        public int Compare(IReadOnlyList<long>? x, IReadOnlyList<long>? y)
        {
            for (int d = 0; d < Math.Min(x!.Count, y!.Count); d++)
                if (x[d] != y[d]) return x[d].CompareTo(y[d]);
            return x.Count.CompareTo(y.Count);
        }
    }
}
