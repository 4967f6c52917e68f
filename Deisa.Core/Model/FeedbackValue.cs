using System.Buffers.Binary;
using System.Text;

namespace Deisa.Model;

/// <summary>A value the analytics sends back to the simulation: a kind and its bytes.</summary>
public sealed record FeedbackValue(FeedbackKind Kind, byte[] Data)
{
    /// <summary>Largest value accepted (numpy arrays up to 1 MiB, plus header room).</summary>
    public const int MaxBytes = (1 << 20) + 4096;

    /// <summary>A 64-bit integer.</summary>
    public static FeedbackValue Of(long v) { var b = new byte[8]; BinaryPrimitives.WriteInt64LittleEndian(b, v); return new(FeedbackKind.Int64, b); }
    /// <summary>A double.</summary>
    public static FeedbackValue Of(double v) { var b = new byte[8]; BinaryPrimitives.WriteDoubleLittleEndian(b, v); return new(FeedbackKind.Float64, b); }
    /// <summary>A string.</summary>
    public static FeedbackValue Of(string v) => new(FeedbackKind.String, Encoding.UTF8.GetBytes(v));
    /// <summary>A boolean.</summary>
    public static FeedbackValue Of(bool v) => new(FeedbackKind.Bool, [v ? (byte)1 : (byte)0]);

    /// <summary>Checks kind and size; throws a named error otherwise.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind)) throw DeisaException.Type($"unknown feedback value kind {(int)Kind}");
        if (Data.Length > MaxBytes) throw DeisaException.Value($"feedback value of {Data.Length} bytes is larger than the 1 MiB limit");
        int need = Kind switch { FeedbackKind.Int64 or FeedbackKind.Float64 => 8, FeedbackKind.Bool => 1, FeedbackKind.None => 0, _ => -1 };
        if (need >= 0 && Data.Length != need) throw DeisaException.Value($"feedback value of kind {Kind} must have {need} bytes, got {Data.Length}");
    }

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
}
