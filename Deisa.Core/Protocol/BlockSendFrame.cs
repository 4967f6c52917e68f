using System.Buffers.Binary;
using Deisa.Model;

namespace Deisa.Protocol;

/// <summary>
/// The block channel's send of a small block (<see cref="BlockFrame.SendPacked"/>): fixed
/// little-endian fields, the block's shape, the array's name (UTF-8) and the block's bytes.
/// It is on the way from a rank's send to the callback, on both sides: written and read
/// without protobuf's messages, and the bytes go from the simulation's array into the frame
/// and from the frame into shared memory with no copy in between.
/// </summary>
/// <remarks>
/// Layout after the kind byte: int32 rank, dtype, order, ndim, name_bytes, data_bytes;
/// int64 timestep, timeout_ms, retired_seen; int64 shape[ndim]; name; data.
/// </remarks>
internal static class BlockSendFrame
{
    private const int FixedBytes = 6 * 4 + 3 * 8;

    /// <summary>Most dimensions a block may have (numpy's limit).</summary>
    public const int MaxDimensions = 64;

    /// <summary>Writes the frame (length, kind and body) into <paramref name="buffer"/>, grown if needed; returns its length.</summary>
    public static int Write(ref byte[] buffer, int rank, ReadOnlySpan<byte> name, long timestep, DType dtype, ReadOnlySpan<long> shape,
        MemoryOrder order, long timeoutMs, long retiredSeen, ReadOnlySpan<byte> data)
    {
        int body = FixedBytes + 8 * shape.Length + name.Length + data.Length;
        int total = BlockFrame.HeaderBytes + body;
        if (buffer.Length < total) buffer = new byte[Math.Max(total, buffer.Length * 2)];
        var span = buffer.AsSpan(0, total);
        BinaryPrimitives.WriteInt32LittleEndian(span, body + 1);
        span[4] = BlockFrame.SendPacked;
        var f = span[BlockFrame.HeaderBytes..];
        BinaryPrimitives.WriteInt32LittleEndian(f, rank);
        BinaryPrimitives.WriteInt32LittleEndian(f[4..], (int)dtype);
        BinaryPrimitives.WriteInt32LittleEndian(f[8..], (int)order);
        BinaryPrimitives.WriteInt32LittleEndian(f[12..], shape.Length);
        BinaryPrimitives.WriteInt32LittleEndian(f[16..], name.Length);
        BinaryPrimitives.WriteInt32LittleEndian(f[20..], data.Length);
        BinaryPrimitives.WriteInt64LittleEndian(f[24..], timestep);
        BinaryPrimitives.WriteInt64LittleEndian(f[32..], timeoutMs);
        BinaryPrimitives.WriteInt64LittleEndian(f[40..], retiredSeen);
        int at = FixedBytes;
        foreach (var n in shape)
        {
            BinaryPrimitives.WriteInt64LittleEndian(f[at..], n);
            at += 8;
        }
        name.CopyTo(f[at..]);
        data.CopyTo(f[(at + name.Length)..]);
        return total;
    }

    /// <summary>A send frame's body, read. The name and data are ranges of the body.</summary>
    public readonly record struct Fields(int Rank, int DType, int Order, long Timestep, long TimeoutMs, long RetiredSeen, long[] Shape,
        Range Name, Range Data);

    /// <summary>Reads a send frame's body; <see cref="InvalidDataException"/> if its lengths do
    /// not add up (a malformed or hostile peer: the connection is closed).</summary>
    public static Fields Read(ReadOnlySpan<byte> body)
    {
        if (body.Length < FixedBytes) throw new InvalidDataException($"block send frame of {body.Length} bytes");
        int ndim = BinaryPrimitives.ReadInt32LittleEndian(body[12..]);
        int nameBytes = BinaryPrimitives.ReadInt32LittleEndian(body[16..]);
        int dataBytes = BinaryPrimitives.ReadInt32LittleEndian(body[20..]);
        if (ndim is < 0 or > MaxDimensions || nameBytes is < 0 or > BlockFrame.MaxBytes || dataBytes is < 0 or > BlockFrame.MaxBytes
            || FixedBytes + 8L * ndim + nameBytes + dataBytes != body.Length)
            throw new InvalidDataException($"block send frame of {body.Length} bytes announcing {ndim} dimensions, a name of {nameBytes} bytes and {dataBytes} bytes of data");
        var shape = new long[ndim];
        for (int d = 0; d < ndim; d++) shape[d] = BinaryPrimitives.ReadInt64LittleEndian(body[(FixedBytes + 8 * d)..]);
        int nameAt = FixedBytes + 8 * ndim, dataAt = nameAt + nameBytes;
        return new Fields(
            BinaryPrimitives.ReadInt32LittleEndian(body),
            BinaryPrimitives.ReadInt32LittleEndian(body[4..]),
            BinaryPrimitives.ReadInt32LittleEndian(body[8..]),
            BinaryPrimitives.ReadInt64LittleEndian(body[24..]),
            BinaryPrimitives.ReadInt64LittleEndian(body[32..]),
            BinaryPrimitives.ReadInt64LittleEndian(body[40..]),
            shape, nameAt..dataAt, dataAt..(dataAt + dataBytes));
    }
}
