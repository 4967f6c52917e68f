namespace Deisa.Protocol.BlockFrames;

/// <summary>The first frame of a block channel connection: the rank and the session token.
/// Every later frame on the connection is this rank's. Layout: int32 rank; string token.</summary>
public readonly record struct HelloFrame(int Rank, string Token)
{
    public void Write(ref FrameWriter w)
    {
        w.Int32(Rank);
        w.String(Token);
    }

    public static HelloFrame Read(ReadOnlySpan<byte> body)
    {
        var r = new FrameReader(body);
        var hello = new HelloFrame(r.Int32(), r.String());
        r.End();
        return hello;
    }
}
