using System.Buffers.Binary;
using System.Net.Sockets;
using Google.Protobuf;

namespace Deisa.Protocol;

/// <summary>
/// A frame of the block channel (see deisa.proto): a little-endian int32 length of what
/// follows, a kind byte, then the message.
/// </summary>
internal static class BlockFrame
{
    public const int HeaderBytes = 5;

    /// <summary>Longest frame accepted: an inline block with room for its description. A
    /// longer length is a malformed or hostile peer: the connection is closed.</summary>
    public const int MaxBytes = 1 << 20;

    public const byte Hello = 1;
    public const byte Acquire = 2;
    public const byte Commit = 3;
    // 4 was a small block's send as protobuf, before SendPacked.
    public const byte Flush = 5;
    public const byte SendPacked = 6;
    public const byte Ok = 100;
    public const byte Error = 101;

    /// <summary>Writes kind and message into <paramref name="buffer"/> (grown if needed); returns the frame's length.</summary>
    public static int Write(ref byte[] buffer, byte kind, IMessage message)
    {
        int size = message.CalculateSize();
        int total = HeaderBytes + size;
        if (buffer.Length < total) buffer = new byte[Math.Max(total, buffer.Length * 2)];
        BinaryPrimitives.WriteInt32LittleEndian(buffer, size + 1);
        buffer[4] = kind;
        message.WriteTo(buffer.AsSpan(HeaderBytes, size));
        return total;
    }

    /// <summary>
    /// Receives the next frame into <paramref name="buffer"/> (grown if needed): its kind and
    /// message, or kind 0 when the peer closed between frames. Waits in poll() rather than in a
    /// blocking receive: a thread asleep in receive on a Unix socket is also woken each time
    /// its peer reads what it wrote (the room it frees wakes the socket's writers), while poll
    /// waits for data only, so a call costs one wake-up on each side, not two.
    /// </summary>
    public static (byte Kind, ReadOnlyMemory<byte> Body) Read(Socket socket, ref byte[] buffer)
    {
        while (!socket.Poll(-1, SelectMode.SelectRead)) { }
        if (!Receive(socket, buffer.AsSpan(0, 4))) return (0, default);
        int n = Length(buffer);
        if (buffer.Length < n) buffer = new byte[n];
        if (!Receive(socket, buffer.AsSpan(0, n))) throw new EndOfStreamException("the peer closed the block channel within a frame");
        return (buffer[0], buffer.AsMemory(1, n - 1));
    }

    /// <summary>Fills <paramref name="target"/>; false if the peer closed before its first byte.</summary>
    private static bool Receive(Socket socket, Span<byte> target)
    {
        for (int read = 0; read < target.Length;)
        {
            int n = socket.Receive(target[read..], SocketFlags.None);
            if (n == 0)
            {
                if (read == 0) return false;
                throw new EndOfStreamException("the peer closed the block channel within a frame");
            }
            read += n;
        }
        return true;
    }

    /// <summary>The length announced by a frame's first four bytes (kind and message), checked.</summary>
    public static int Length(ReadOnlySpan<byte> header)
    {
        int n = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (n < 1 || n > MaxBytes + 1) throw new InvalidDataException($"block channel frame of {n} bytes");
        return n;
    }
}
