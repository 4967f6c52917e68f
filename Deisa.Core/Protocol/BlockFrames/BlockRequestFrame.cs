using Deisa.Model;

namespace Deisa.Protocol.BlockFrames;

/// <summary>
/// A rank's send of one block: an acquire (a slot the rank then writes, <see cref="BlockFrameKind.Acquire"/>)
/// or a small block carried in the frame (<see cref="BlockFrameKind.Send"/>, or posted without an
/// answer, <see cref="BlockFrameKind.Post"/>). The rank is the one that said hello on the
/// connection (<see cref="HelloFrame"/>). Layout: int32 dtype, order, flags (bit 0: the rank took
/// a back-pressure ticket for its timestep, see <c>SharedMemory.AdmissionBoard</c>; bit 1: it
/// asks for a slot ahead for its next block of the array, see <see cref="SpareFrame"/>); int64
/// timestep, nbytes, timeout_ms (0: none), retired_seen (the last segment retirement the rank saw,
/// see <see cref="SlotFrame"/>); int64s shape; bytes name (UTF-8); for a send, bytes data (nbytes
/// of them).
/// </summary>
/// <remarks>A send is on the way from a rank's send to the callback, on both sides: the block's
/// bytes go from the simulation's array into the frame and from the frame into shared memory,
/// and the reader hands the name and the data out as ranges of the frame, not copies.</remarks>
public readonly record struct BlockRequestFrame(DType DType, MemoryOrder Order, bool Ticketed, bool WantsSpare, long Timestep, long NBytes,
    long TimeoutMs, long RetiredSeen, long[] Shape, Range Name, Range Data)
{
    private const int TicketedFlag = 1, SpareFlag = 2;

    /// <summary>Writes a request; <paramref name="data"/> is the block for a send, empty for an acquire.</summary>
    public static void Write(ref FrameWriter w, ReadOnlySpan<byte> name, long timestep, DType dtype, ReadOnlySpan<long> shape,
        MemoryOrder order, long nbytes, long timeoutMs, long retiredSeen, ReadOnlySpan<byte> data, bool withData,
        bool ticketed = false, bool wantsSpare = false)
    {
        w.Int32((int)dtype);
        w.Int32((int)order);
        w.Int32((ticketed ? TicketedFlag : 0) | (wantsSpare ? SpareFlag : 0));
        w.Int64(timestep);
        w.Int64(nbytes);
        w.Int64(timeoutMs);
        w.Int64(retiredSeen);
        w.Int64s(shape);
        w.Bytes(name);
        if (withData) w.Bytes(data);
    }

    /// <summary>Reads a request; <paramref name="withData"/> for a send.</summary>
    public static BlockRequestFrame Read(ReadOnlySpan<byte> body, bool withData)
    {
        var r = new FrameReader(body);
        int dtype = r.Int32(), order = r.Int32(), flags = r.Int32();
        long timestep = r.Int64(), nbytes = r.Int64(), timeoutMs = r.Int64(), retiredSeen = r.Int64();
        var shape = r.Int64s(AbiConstants.MaxDimensions);
        var name = r.Bytes();
        var data = withData ? r.Bytes() : default;
        r.End();
        if (withData && data.GetOffsetAndLength(body.Length).Length != nbytes)
            throw new InvalidDataException($"block send frame announces {nbytes} bytes and carries {data.GetOffsetAndLength(body.Length).Length}");
        if ((flags & ~(TicketedFlag | SpareFlag)) != 0) throw new InvalidDataException($"block send frame with flags {flags}");
        return new BlockRequestFrame((DType)dtype, (MemoryOrder)order, (flags & TicketedFlag) != 0, (flags & SpareFlag) != 0, timestep, nbytes, timeoutMs, retiredSeen, shape, name, data);
    }
}
