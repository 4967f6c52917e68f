using System.Text.Json.Serialization;

namespace Deisa.Protocol;

/// <summary>What the analytics publishes for bridges: where to connect and the session's secret.</summary>
public sealed record RendezvousInfo(string Session, string Token, string Address, int Pid)
{
    /// <summary>Host name of the analytics' node: a record written on another node cannot be
    /// checked by its process id.</summary>
    public string Host { get; init; } = "";

    /// <summary>When the analytics' process started (<c>/proc/pid/stat</c>, clock ticks since
    /// boot; 0 = unknown): with <see cref="Pid"/> it tells the analytics from a later process
    /// that got the same pid.</summary>
    public long PidStart { get; init; }

    /// <summary>The run's blocks are held by node services on a cluster's nodes (one per node,
    /// inside a Dask worker), which find the head through this record.</summary>
    public bool Cluster { get; init; }

    /// <summary>Prefix of this session's shared-memory segment names.</summary>
    [JsonIgnore]
    public string SegmentPrefix => SegmentPrefixOf(Session);

    /// <summary>Prefix of a session's shared-memory segment names.</summary>
    public static string SegmentPrefixOf(string session) => $"deisa-{session}";
}
