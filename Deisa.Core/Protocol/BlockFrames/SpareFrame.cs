namespace Deisa.Protocol.BlockFrames;

/// <summary>
/// A slot granted ahead to a rank for its next block of an array (of the same size as its last):
/// the rank writes that block there without a call once its timestep is admitted on the
/// admission board, and commits it ahead (<see cref="AheadCommitFrame"/>), or gives it back with
/// a plain commit that abandons it. Layout: string array; then a <see cref="SlotFrame"/>'s.
/// </summary>
public sealed record SpareFrame(string Array, long NBytes, SlotFrame Slot)
{
    public void Write(ref FrameWriter w)
    {
        w.String(Array);
        w.Int64(NBytes);
        Slot.Write(ref w);
    }

    public static SpareFrame Read(ReadOnlySpan<byte> body)
    {
        var r = new FrameReader(body);
        var array = r.String();
        long nbytes = r.Int64();
        return new SpareFrame(array, nbytes, SlotFrame.Read(body[r.Position..]));
    }
}
