using Deisa.Model;

namespace Deisa.Protocol.BlockFrames;

/// <summary>
/// A block written in a slot granted ahead (<see cref="SpareFrame"/>), committed: the slot, then
/// the send it is (a <see cref="BlockRequestFrame"/> without data, whose flags say whether the
/// rank took a back-pressure ticket and whether it wants the next slot ahead). Layout: int64
/// slot; then the request's layout.
/// </summary>
public static class AheadCommitFrame
{
    public static void Write(ref FrameWriter w, long slot, ReadOnlySpan<byte> name, long timestep, DType dtype, ReadOnlySpan<long> shape,
        MemoryOrder order, long nbytes, long timeoutMs, long retiredSeen, bool ticketed, bool wantsSpare)
    {
        w.Int64(slot);
        BlockRequestFrame.Write(ref w, name, timestep, dtype, shape, order, nbytes, timeoutMs, retiredSeen, default,
            withData: false, ticketed, wantsSpare);
    }

    /// <summary>The slot and the send; the request's ranges are into <paramref name="body"/> from offset 8 (see <see cref="RequestAt"/>).</summary>
    public static (long Slot, BlockRequestFrame Request) Read(ReadOnlySpan<byte> body)
    {
        var r = new FrameReader(body);
        long slot = r.Int64();
        return (slot, BlockRequestFrame.Read(body[RequestAt..], withData: false));
    }

    /// <summary>Where the request starts in the body.</summary>
    public const int RequestAt = 8;
}
