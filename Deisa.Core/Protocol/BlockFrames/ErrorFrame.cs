using Deisa.Model;

namespace Deisa.Protocol.BlockFrames;

/// <summary>A request refused, as the error the rank's call raises. Layout: int32 status
/// (<see cref="DeisaStatus"/>); string message.</summary>
public readonly record struct ErrorFrame(DeisaStatus Status, string Message)
{
    public void Write(ref FrameWriter w)
    {
        w.Int32((int)Status);
        w.String(Message);
    }

    public static ErrorFrame Read(ReadOnlySpan<byte> body)
    {
        var r = new FrameReader(body);
        var error = new ErrorFrame((DeisaStatus)r.Int32(), r.String());
        r.End();
        return error;
    }

    /// <summary>The error as the rank raises it.</summary>
    public DeisaException ToException() =>
        new(Enum.IsDefined(Status) && Status != DeisaStatus.Ok ? Status : DeisaStatus.Internal, Message);
}
