using Deisa.Arrays;

namespace Deisa.Bridge;

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

    /// <summary>Sends the written block.</summary>
    public void Commit()
    {
        if (_done) throw Errors.DeisaException.State($"block of '{Array}' at timestep {Timestep} was already committed or abandoned");
        _done = true;
        _bridge.CommitBuffer(this, abandon: false);
    }

    /// <summary>Gives the memory back without sending (if not committed).</summary>
    public void Dispose()
    {
        if (_done) return;
        _done = true;
        _bridge.CommitBuffer(this, abandon: true);
    }
}
