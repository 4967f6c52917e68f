using Deisa.Model;
using Deisa.Protocol;
using Deisa.SharedMemory;

namespace Deisa.Simulation;

/// <summary>
/// A block being written directly into shared memory (the zero-copy send). Write the block
/// into <see cref="Span"/>, then <see cref="Commit"/>; disposing without commit gives the
/// memory back and sends nothing.
/// </summary>
public sealed unsafe class BlockBuffer : IDisposable
{
    private readonly Bridge _bridge;
    private bool _done;

    internal BlockBuffer(Bridge bridge, string array, long timestep, long slot, nint address, long nbytes, DType dtype, long[] shape, MemoryOrder order)
    {
        _bridge = bridge;
        Array = array;
        Timestep = timestep;
        Slot = slot;
        Address = address;
        NBytes = nbytes;
        DType = dtype;
        Shape = shape;
        Order = order;
    }

    /// <summary>The array this block belongs to.</summary>
    public string Array { get; }
    /// <summary>The timestep of the block.</summary>
    public long Timestep { get; }
    internal long Slot { get; }
    /// <summary>Written in a slot granted ahead: committed ahead (its send announced with the commit).</summary>
    internal bool Ahead { get; init; }
    /// <summary>Its timestep was admitted with a ticket this rank took on the admission board.</summary>
    internal bool Ticketed { get; init; }
    /// <summary>Where to write, in this process.</summary>
    public nint Address { get; }
    /// <summary>Size of the block in bytes.</summary>
    public long NBytes { get; }
    /// <summary>Element type.</summary>
    public DType DType { get; }
    /// <summary>Shape of the block.</summary>
    public long[] Shape { get; }
    /// <summary>Memory order of the block.</summary>
    public MemoryOrder Order { get; }

    /// <summary>The block's bytes (a zero-length span when the analytics is gone and sends are no-ops).</summary>
    public Span<byte> Span => _done ? throw new ObjectDisposedException(nameof(BlockBuffer)) : new((void*)Address, checked((int)NBytes));

    /// <summary>The block's elements.</summary>
    public Span<T> AsSpan<T>() where T : unmanaged => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(Span);

    /// <summary>
    /// The block's elements as a writable tensor of the declared chunk shape, laid out in the
    /// declared memory order: element [i, j, ...] is the block's element (i, j, ...) (0-based),
    /// for a Fortran-ordered array too (a strided view, first index fastest; no transpose).
    /// </summary>
    /// <typeparam name="T">Element type; must be the buffer's <see cref="DType"/>.</typeparam>
    /// <exception cref="DeisaException">Another element type (<see cref="DeisaStatus.Type"/>,
    /// naming the array and both types).</exception>
    /// <exception cref="ObjectDisposedException">The buffer was committed or abandoned.</exception>
    public System.Numerics.Tensors.TensorSpan<T> AsTensorSpan<T>() where T : unmanaged
    {
        if (_done) throw new ObjectDisposedException(nameof(BlockBuffer), $"the buffer of '{Array}' at timestep {Timestep} was already committed or abandoned");
        ElementType.Check<T>(DType, $"the buffer of array '{Array}' at timestep {Timestep}");
        long count = NBytes / sizeof(T);
        return new System.Numerics.Tensors.TensorSpan<T>((T*)Address, checked((nint)count),
            ElementStrides.Lengths(Shape), ElementStrides.Of(Shape, Order));
    }

    /// <summary>Sends the written block.</summary>
    public void Commit()
    {
        if (_givenBack) throw DeisaException.State($"block of '{Array}' at timestep {Timestep} was given back unsent when the bridge was closed");
        if (_done) throw DeisaException.State($"block of '{Array}' at timestep {Timestep} was already committed or abandoned");
        _done = true;
        _bridge.CommitBuffer(this, abandon: false);
    }

    private bool _givenBack;

    /// <summary>At the bridge's close: gives the memory back unsent; a later commit is an error.</summary>
    internal void GiveBackAtClose()
    {
        if (_done) return;
        _givenBack = true;
        Dispose();
    }

    /// <summary>Gives the memory back without sending (if not committed).</summary>
    public void Dispose()
    {
        if (_done) return;
        _done = true;
        _bridge.CommitBuffer(this, abandon: true);
    }
}
