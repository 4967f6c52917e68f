using System.Buffers.Binary;
using System.Text;

namespace Deisa.Protocol.BlockFrames;

/// <summary>
/// Reads a frame's body in the order a <see cref="FrameWriter"/> wrote it. A field that runs
/// past the body, a negative length or bytes left over are a malformed or hostile peer:
/// <see cref="InvalidDataException"/>, and the connection is closed.
/// </summary>
public ref struct FrameReader(ReadOnlySpan<byte> body)
{
    private readonly ReadOnlySpan<byte> _body = body;
    private int _at;

    /// <summary>Where the next field starts in the body.</summary>
    public readonly int Position => _at;

    public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    /// <summary>An array of int64 of at most <paramref name="max"/> values.</summary>
    public long[] Int64s(int max)
    {
        int n = Length(max, "values");
        var values = new long[n];
        var from = Take(8 * n);
        for (int i = 0; i < n; i++) values[i] = BinaryPrimitives.ReadInt64LittleEndian(from[(8 * i)..]);
        return values;
    }

    /// <summary>A run of bytes, as its range in the body (no copy).</summary>
    public Range Bytes()
    {
        int n = Length(BlockFrame.MaxBytes, "bytes");
        int start = _at;
        Take(n);
        return start..(start + n);
    }

    public string String()
    {
        var bytes = _body[Bytes()];
        try { return Strict.GetString(bytes); }
        catch (DecoderFallbackException) { throw new InvalidDataException("a string of a block channel frame is not UTF-8"); }
    }

    /// <summary>Checks that the whole body was read.</summary>
    public readonly void End()
    {
        if (_at != _body.Length) throw new InvalidDataException($"block channel frame of {_body.Length} bytes has {_body.Length - _at} bytes past its fields");
    }

    private int Length(int max, string what)
    {
        int n = Int32();
        if (n < 0 || n > max) throw new InvalidDataException($"block channel frame announces {n} {what}");
        return n;
    }

    private ReadOnlySpan<byte> Take(int n)
    {
        if (n > _body.Length - _at) throw new InvalidDataException($"block channel frame of {_body.Length} bytes ends within a field");
        var span = _body.Slice(_at, n);
        _at += n;
        return span;
    }

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
