namespace Deisa.Engine.Head;

/// <summary>Settings of a run that the head enforces.</summary>
public sealed record HeadOptions
{
    /// <summary>How many timesteps may be pending at once (back-pressure).</summary>
    public int MaxSimulationAhead { get; init; } = 1;

    /// <summary>Feedback entries kept per key.</summary>
    public int FeedbackQueueSize { get; init; } = 1024;

    /// <summary>Bytes of the node's shared-memory pool (checked against one timestep at registration).</summary>
    public long PoolBytes { get; init; } = long.MaxValue;

    /// <summary>The ranks' blocks are held by node services on a cluster's nodes, not by the
    /// analytics' own node (a rank's first blocks are reserved on its own node).</summary>
    public bool Cluster { get; init; }

    /// <summary>Back-pressure's tickets (none: the head keeps max_simulation_ahead of them itself).</summary>
    public IAdmissionTickets? Tickets { get; init; }

    /// <summary>Where feedback values are written down for a successor (none: not written).</summary>
    public IFeedbackJournal? Journal { get; init; }
}
