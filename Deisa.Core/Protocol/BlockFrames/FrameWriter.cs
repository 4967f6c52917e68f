using System.Buffers.Binary;
using System.Text;

namespace Deisa.Protocol.BlockFrames;

/// <summary>
/// Writes one frame into a reusable buffer (grown when needed): the header, then the body's
/// fields in order, little-endian. Strings and byte runs are an int32 length and the bytes;
/// arrays of int64 an int32 count and the values.
/// </summary>
public ref struct FrameWriter
{
    private byte[] _buffer;
    private int _at;

    /// <summary>Starts a frame of <paramref name="kind"/> in <paramref name="buffer"/>.</summary>
    public FrameWriter(byte[] buffer, BlockFrameKind kind)
    {
        _buffer = buffer;
        _buffer[4] = (byte)kind;
        _at = BlockFrame.HeaderBytes;
    }

    /// <summary>The buffer holding the frame (a new one if it grew).</summary>
    public readonly byte[] Buffer => _buffer;

    public void Int32(int v) => BinaryPrimitives.WriteInt32LittleEndian(Room(4), v);

    public void Int64(long v) => BinaryPrimitives.WriteInt64LittleEndian(Room(8), v);

    public void Int64s(ReadOnlySpan<long> vs)
    {
        Int32(vs.Length);
        var into = Room(8 * vs.Length);
        for (int i = 0; i < vs.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(into[(8 * i)..], vs[i]);
    }

    public void Bytes(ReadOnlySpan<byte> bytes)
    {
        Int32(bytes.Length);
        bytes.CopyTo(Room(bytes.Length));
    }

    public void String(string s)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        Int32(n);
        Encoding.UTF8.GetBytes(s, Room(n));
    }

    /// <summary>Ends the frame (writes its length); returns the bytes to send.</summary>
    public int Finish()
    {
        BinaryPrimitives.WriteInt32LittleEndian(_buffer, _at - 4);
        return _at;
    }

    private Span<byte> Room(int n)
    {
        if (_at + n > _buffer.Length)
        {
            var grown = new byte[Math.Max(_at + n, 2 * _buffer.Length)];
            _buffer.AsSpan(0, _at).CopyTo(grown);
            _buffer = grown;
        }
        var span = _buffer.AsSpan(_at, n);
        _at += n;
        return span;
    }
}
