namespace Deisa.Protocol;

/// <summary>How a control call presents the session's token (the block channel's first frame carries it instead).</summary>
public static class SessionHeaders
{
    /// <summary>The gRPC header holding the token.</summary>
    public const string Token = "deisa-token";
}
