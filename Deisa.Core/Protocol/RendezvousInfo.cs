using System.Text.Json.Serialization;

namespace Deisa.Protocol;

/// <summary>What the analytics publishes for bridges: where to connect and the session's secret.</summary>
public sealed record RendezvousInfo(string Session, string Token, string Address, int Pid)
{
    /// <summary>Prefix of this session's shared-memory segment names.</summary>
    [JsonIgnore]
    public string SegmentPrefix => SegmentPrefixOf(Session);

    /// <summary>Prefix of a session's shared-memory segment names.</summary>
    public static string SegmentPrefixOf(string session) => $"deisa-{session}";
}
