using System.Buffers;

namespace Deisa.Flight;

/// <summary>A block's bytes in this process's shared memory as <see cref="Memory{T}"/>, so that
/// an Arrow array can stand on them without a copy. The caller keeps the block (its lease) for
/// as long as the memory is used.</summary>
internal sealed unsafe class NativeMemory(nint address, int length) : MemoryManager<byte>
{
    public override Span<byte> GetSpan() => new((void*)address, length);

    public override MemoryHandle Pin(int elementIndex = 0) => new((byte*)address + elementIndex);

    public override void Unpin() { }

    protected override void Dispose(bool disposing) { }
}
