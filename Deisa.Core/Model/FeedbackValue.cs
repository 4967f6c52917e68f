using System.Buffers.Binary;
using System.Text;

namespace Deisa.Model;

/// <summary>A value the analytics sends back to the simulation: a kind and its bytes.</summary>
public sealed record FeedbackValue(FeedbackKind Kind, byte[] Data)
{
    /// <summary>A 64-bit integer.</summary>
    public static FeedbackValue Of(long v) { var b = new byte[8]; BinaryPrimitives.WriteInt64LittleEndian(b, v); return new(FeedbackKind.Int64, b); }
    /// <summary>A double.</summary>
    public static FeedbackValue Of(double v) { var b = new byte[8]; BinaryPrimitives.WriteDoubleLittleEndian(b, v); return new(FeedbackKind.Float64, b); }
    /// <summary>A string.</summary>
    public static FeedbackValue Of(string v) => new(FeedbackKind.String, Encoding.UTF8.GetBytes(v));
    /// <summary>A boolean.</summary>
    public static FeedbackValue Of(bool v) => new(FeedbackKind.Bool, [v ? (byte)1 : (byte)0]);

    /// <summary>A 64-bit integer (and, through it, any smaller integer).</summary>
    public static implicit operator FeedbackValue(long v) => Of(v);
    /// <summary>A double.</summary>
    public static implicit operator FeedbackValue(double v) => Of(v);
    /// <summary>A string.</summary>
    public static implicit operator FeedbackValue(string v) => Of(v);
    /// <summary>A boolean.</summary>
    public static implicit operator FeedbackValue(bool v) => Of(v);

    /// <summary>Checks kind and size; throws a named error otherwise.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind)) throw DeisaException.Type($"unknown feedback value kind {(int)Kind}");
        if (Data.Length > AbiConstants.MaxFeedbackBytes) throw TooLarge(Data.Length);
        int need = Kind switch { FeedbackKind.Int64 or FeedbackKind.Float64 => 8, FeedbackKind.Bool => 1, FeedbackKind.None => 0, _ => -1 };
        if (need >= 0 && Data.Length != need) throw DeisaException.Value($"feedback value of kind {Kind} must have {need} bytes, got {Data.Length}");
        if (Kind == FeedbackKind.NdArray && Data.Length - NpyHeaderBytes() is var data and > AbiConstants.MaxFeedbackArrayBytes)
            throw DeisaException.Value($"feedback array of {data} bytes is larger than the 1 MiB limit ({AbiConstants.MaxFeedbackArrayBytes} bytes)");
    }

    /// <summary>
    /// The bytes of an array's .npy header (magic, version, header length, header): the rest is
    /// its data. See numpy's format: "\x93NUMPY", major and minor version, then the header's
    /// length as a little-endian uint16 (version 1) or uint32 (versions 2 and 3).
    /// </summary>
    private int NpyHeaderBytes()
    {
        ReadOnlySpan<byte> magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
        if (Data.Length < 10 || !Data.AsSpan(0, 6).SequenceEqual(magic) || Data[6] is < 1 or > 3)
            throw DeisaException.Value($"feedback array of {Data.Length} bytes is not in .npy format");
        long header = Data[6] == 1 ? 10L + BinaryPrimitives.ReadUInt16LittleEndian(Data.AsSpan(8))
            : Data.Length >= 12 ? 12L + BinaryPrimitives.ReadUInt32LittleEndian(Data.AsSpan(8)) : long.MaxValue;
        if (header > Data.Length) throw DeisaException.Value($"feedback array of {Data.Length} bytes is not in .npy format (its header runs past its end)");
        return (int)header;
    }

    /// <summary>The error for a value of <paramref name="bytes"/> bytes, more than <see cref="AbiConstants.MaxFeedbackBytes"/>.</summary>
    public static DeisaException TooLarge(long bytes) =>
        DeisaException.Value($"feedback value of {bytes} bytes is larger than the limit of {AbiConstants.MaxFeedbackBytes} bytes");

    /// <summary>The value as an integer, if it is a number or a bool.</summary>
    public bool TryGetInt64(out long v)
    {
        switch (Kind)
        {
            case FeedbackKind.Int64: v = BinaryPrimitives.ReadInt64LittleEndian(Data); return true;
            case FeedbackKind.Bool: v = Data[0]; return true;
            case FeedbackKind.Float64:
                var d = BinaryPrimitives.ReadDoubleLittleEndian(Data);
                v = (long)d; return d == Math.Floor(d) && Math.Abs(d) < 9.2e18;
            default: v = 0; return false;
        }
    }

    /// <summary>The value as a double, if it is a number or a bool.</summary>
    public bool TryGetDouble(out double v)
    {
        switch (Kind)
        {
            case FeedbackKind.Float64: v = BinaryPrimitives.ReadDoubleLittleEndian(Data); return true;
            case FeedbackKind.Int64: v = BinaryPrimitives.ReadInt64LittleEndian(Data); return true;
            case FeedbackKind.Bool: v = Data[0]; return true;
            default: v = 0; return false;
        }
    }

    /// <summary>The value as text (strings as they are, numbers printed).</summary>
    public bool TryGetString(out string v)
    {
        switch (Kind)
        {
            case FeedbackKind.String: v = Encoding.UTF8.GetString(Data); return true;
            case FeedbackKind.Int64: v = BinaryPrimitives.ReadInt64LittleEndian(Data).ToString(System.Globalization.CultureInfo.InvariantCulture); return true;
            case FeedbackKind.Float64: v = BinaryPrimitives.ReadDoubleLittleEndian(Data).ToString("R", System.Globalization.CultureInfo.InvariantCulture); return true;
            case FeedbackKind.Bool: v = Data[0] != 0 ? "true" : "false"; return true;
            default: v = ""; return false;
        }
    }

    /// <summary>The value as a person reads it (the dashboard): numbers, bools and strings as
    /// <see cref="TryGetString"/> gives them (a string cut at 200 characters), else its kind and size.</summary>
    public string Describe() =>
        Kind == FeedbackKind.None ? "None"
        : TryGetString(out var text) ? (text.Length > 200 ? text[..200] + "…" : text)
        : Kind == FeedbackKind.NdArray ? $"array ({Data.Length} bytes as .npy)"
        : $"{Data.Length} bytes";
}
