using System.Buffers.Binary;

namespace Deisa.Flight;

/// <summary>
/// What Arrow's IPC stream writer writes, taken apart without keeping the bodies: each message's
/// metadata (a flatbuffer <c>Message</c>, which is a Flight message's data header) and the
/// length of the body that follows it, while the body's bytes (a block in shared memory) are
/// skipped, never copied. So that <see cref="BlockStream"/> writes each body straight from
/// shared memory to the socket.
/// </summary>
internal sealed class IpcMessages : Stream
{
    private readonly Queue<(byte[] Header, long BodyLength)> _messages = new();
    private byte[] _pending = new byte[256];
    private int _filled;
    private long _skip; // body bytes still to skip

    /// <summary>The messages written since the last call, in order.</summary>
    public IEnumerable<(byte[] Header, long BodyLength)> Take()
    {
        while (_messages.TryDequeue(out var m)) yield return m;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            if (_skip > 0)
            {
                int n = (int)Math.Min(_skip, buffer.Length);
                _skip -= n;
                buffer = buffer[n..];
                continue;
            }
            int need = _filled < 8 ? 8 : 8 + BinaryPrimitives.ReadInt32LittleEndian(_pending.AsSpan(4));
            if (_filled + (need - _filled) > _pending.Length) Array.Resize(ref _pending, need);
            int take = Math.Min(need - _filled, buffer.Length);
            buffer[..take].CopyTo(_pending.AsSpan(_filled));
            _filled += take;
            buffer = buffer[take..];
            if (_filled < 8 || _filled < need) continue;
            if (need == 8) continue; // the prefix is complete: now its metadata
            if (BinaryPrimitives.ReadUInt32LittleEndian(_pending) != 0xFFFFFFFF)
                throw new InvalidDataException("an Arrow IPC message without its continuation marker");
            var header = _pending.AsSpan(8, need - 8).ToArray();
            long body = BodyLengthOf(header);
            _messages.Enqueue((header, body));
            _skip = body;
            _filled = 0;
        }
    }

    /// <summary>The <c>bodyLength</c> field (index 3, a long) of a flatbuffer <c>Message</c>.</summary>
    private static long BodyLengthOf(ReadOnlySpan<byte> message)
    {
        int table = BinaryPrimitives.ReadInt32LittleEndian(message);
        int vtable = table - BinaryPrimitives.ReadInt32LittleEndian(message[table..]);
        int vtableSize = BinaryPrimitives.ReadInt16LittleEndian(message[vtable..]);
        const int field = 3, entry = 4 + 2 * field;
        if (entry + 2 > vtableSize) return 0;
        int at = BinaryPrimitives.ReadInt16LittleEndian(message[(vtable + entry)..]);
        return at == 0 ? 0 : BinaryPrimitives.ReadInt64LittleEndian(message[(table + at)..]);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override void Flush() { }
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
