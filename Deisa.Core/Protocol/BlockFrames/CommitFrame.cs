namespace Deisa.Protocol.BlockFrames;

/// <summary>The rank wrote the block of a slot (or, with <see cref="Abandon"/>, could not and
/// gives the slot back). Layout: int64 slot; int32 abandon (0 or 1). The rank is the connection's
/// (<see cref="HelloFrame"/>).</summary>
public readonly record struct CommitFrame(long Slot, bool Abandon)
{
    public void Write(ref FrameWriter w)
    {
        w.Int64(Slot);
        w.Int32(Abandon ? 1 : 0);
    }

    public static CommitFrame Read(ReadOnlySpan<byte> body)
    {
        var r = new FrameReader(body);
        var commit = new CommitFrame(r.Int64(), r.Int32() != 0);
        r.End();
        return commit;
    }
}
