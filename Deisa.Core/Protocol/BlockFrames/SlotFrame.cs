namespace Deisa.Protocol.BlockFrames;

/// <summary>
/// The answer to an acquire or a send: the slot granted (its id, the segment that holds it, its
/// offset there), and the node's segments destroyed since the rank's last look, which the rank
/// unmaps. Layout: int64 slot; string segment; int64 segment_size, offset, retired_seq; int32
/// retire_all (1: the list is incomplete, unmap every segment but this one); int32 count and
/// that many strings, the retired segments.
/// </summary>
public sealed record SlotFrame(long Slot, string Segment, long SegmentSize, long Offset, long RetiredSeq, bool RetireAll,
    IReadOnlyList<string> Retired)
{
    /// <summary>Most retired segments one answer lists.</summary>
    public const int MaxRetired = 1 << 16;

    public void Write(ref FrameWriter w)
    {
        w.Int64(Slot);
        w.String(Segment);
        w.Int64(SegmentSize);
        w.Int64(Offset);
        w.Int64(RetiredSeq);
        w.Int32(RetireAll ? 1 : 0);
        w.Int32(Retired.Count);
        foreach (var name in Retired) w.String(name);
    }

    public static SlotFrame Read(ReadOnlySpan<byte> body)
    {
        var r = new FrameReader(body);
        long slot = r.Int64();
        var segment = r.String();
        long size = r.Int64(), offset = r.Int64(), seq = r.Int64();
        bool all = r.Int32() != 0;
        int n = r.Int32();
        if (n < 0 || n > MaxRetired) throw new InvalidDataException($"slot frame lists {n} retired segments");
        var retired = n == 0 ? [] : new string[n];
        for (int i = 0; i < n; i++) retired[i] = r.String();
        r.End();
        return new SlotFrame(slot, segment, size, offset, seq, all, retired);
    }
}
