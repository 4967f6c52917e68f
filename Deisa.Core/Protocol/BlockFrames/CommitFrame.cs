namespace Deisa.Protocol.BlockFrames;

/// <summary>The rank wrote the block of a slot (or, with <see cref="Abandon"/>, could not and
/// gives the slot back). Layout: int32 rank; int64 slot; int32 abandon (0 or 1).</summary>
public readonly record struct CommitFrame(int Rank, long Slot, bool Abandon)
{
    public void Write(ref FrameWriter w)
    {
        w.Int32(Rank);
        w.Int64(Slot);
        w.Int32(Abandon ? 1 : 0);
    }

    public static CommitFrame Read(ReadOnlySpan<byte> body)
    {
        var r = new FrameReader(body);
        var commit = new CommitFrame(r.Int32(), r.Int64(), r.Int32() != 0);
        r.End();
        return commit;
    }
}
