using System.Buffers.Binary;
using System.Net.Sockets;

namespace Deisa.Protocol.BlockFrames;

/// <summary>
/// The block channel: a plain Unix socket on each node that carries the calls of every send
/// (acquire, commit, the one-call send of small blocks), where a call costs a fraction of a
/// gRPC call (no HTTP/2 framing, no call objects, no thread hops). gRPC carries the control
/// calls only (deisa.proto).
/// </summary>
/// <remarks>
/// A frame is a little-endian int32, the length of what follows; a kind byte
/// (<see cref="BlockFrameKind"/>); then the body, whose fields are written in order by a
/// <see cref="FrameWriter"/> and read back by a <see cref="FrameReader"/>. Each body is one
/// type of this folder, the only definition of its layout, used by both ends. The first frame
/// is a <see cref="HelloFrame"/>. A request (acquire, send, flush) gets one reply: kind
/// <see cref="BlockFrameKind.Ok"/> with the request's answer, or <see cref="BlockFrameKind.Error"/>
/// with an <see cref="ErrorFrame"/>. A commit gets none: the channel is ordered, so the next
/// request is handled after it, and a commit's failure is the reply to the next request
/// (flush, before a close, waits for every commit). A posted block (<see cref="BlockFrameKind.Post"/>)
/// and a commit ahead (<see cref="BlockFrameKind.CommitAhead"/>) get none either; the node sends
/// unasked a <see cref="BlockFrameKind.Refused"/> frame when it refuses one, and a
/// <see cref="BlockFrameKind.Spare"/> frame when it grants a slot ahead; the rank reads them
/// before its next call, or before the answer it waits for.
/// </remarks>
public static class BlockFrame
{
    /// <summary>Bytes before a frame's body: its length and its kind.</summary>
    public const int HeaderBytes = 5;

    /// <summary>Longest frame accepted: a small block with room for its description. A longer
    /// length is a malformed or hostile peer: the connection is closed.</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>
    /// Receives the next frame into <paramref name="buffer"/> (grown if needed): its kind and
    /// body, or kind 0 when the peer closed between frames. Waits in poll() rather than in a
    /// blocking receive: a thread asleep in receive on a Unix socket is also woken each time
    /// its peer reads what it wrote (the room it frees wakes the socket's writers), while poll
    /// waits for data only, so a call costs one wake-up on each side, not two.
    /// </summary>
    public static (BlockFrameKind Kind, ReadOnlyMemory<byte> Body) Read(Socket socket, ref byte[] buffer)
    {
        while (!socket.Poll(-1, SelectMode.SelectRead)) { }
        if (!Receive(socket, buffer.AsSpan(0, 4))) return (0, default);
        int n = BinaryPrimitives.ReadInt32LittleEndian(buffer);
        if (n < 1 || n > MaxBytes + 1) throw new InvalidDataException($"block channel frame of {n} bytes");
        if (buffer.Length < n) buffer = new byte[n];
        if (!Receive(socket, buffer.AsSpan(0, n))) throw new EndOfStreamException("the peer closed the block channel within a frame");
        return ((BlockFrameKind)buffer[0], buffer.AsMemory(1, n - 1));
    }

    /// <summary>
    /// As <see cref="Read"/>, with no thread waiting (a connection's hello, before it has a
    /// thread of its own), into <paramref name="buffer"/> as it is: a longer frame is malformed.
    /// </summary>
    public static async Task<(BlockFrameKind Kind, ReadOnlyMemory<byte> Body)> ReadAsync(Socket socket, byte[] buffer, CancellationToken ct)
    {
        if (!await ReceiveAsync(socket, buffer.AsMemory(0, 4), ct).ConfigureAwait(false)) return (0, default);
        int n = BinaryPrimitives.ReadInt32LittleEndian(buffer);
        if (n < 1 || n > buffer.Length) throw new InvalidDataException($"block channel frame of {n} bytes where at most {buffer.Length} are expected");
        if (!await ReceiveAsync(socket, buffer.AsMemory(0, n), ct).ConfigureAwait(false))
            throw new EndOfStreamException("the peer closed the block channel within a frame");
        return ((BlockFrameKind)buffer[0], buffer.AsMemory(1, n - 1));
    }

    private static async Task<bool> ReceiveAsync(Socket socket, Memory<byte> target, CancellationToken ct)
    {
        for (int read = 0; read < target.Length;)
        {
            int n = await socket.ReceiveAsync(target[read..], SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0)
            {
                if (read == 0) return false;
                throw new EndOfStreamException("the peer closed the block channel within a frame");
            }
            read += n;
        }
        return true;
    }

    /// <summary>Sends the first <paramref name="length"/> bytes of <paramref name="frame"/> (a frame a <see cref="FrameWriter"/> wrote).</summary>
    public static void Send(Socket socket, byte[] frame, int length)
    {
        for (int sent = 0; sent < length;) sent += socket.Send(frame, sent, length - sent, SocketFlags.None);
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
}
