using Deisa.Engine.Messages;

namespace Deisa.Engine.Head;

/// <summary>What the head knows of one node service of a cluster: where it runs, how to reach
/// it, and its pool as it last reported it.</summary>
internal sealed class NodeState(int index, string host, string worker, int pid, INodeInbox inbox)
{
    public int Index { get; } = index;
    public string Host { get; } = host;
    /// <summary>Address of the Dask worker that hosts the node service.</summary>
    public string Worker { get; } = worker;
    public int Pid { get; } = pid;
    public INodeInbox Inbox { get; } = inbox;
    public PoolUsage? Pool;
    /// <summary>Where its Arrow Flight endpoint listens ("grpc+tcp://host:port"), once it reported it.</summary>
    public string? FlightLocation;
    /// <summary>Why the node was lost (the run's error naming it), or null.</summary>
    public string? LostWhy;
    public bool Lost => LostWhy is not null;
}
