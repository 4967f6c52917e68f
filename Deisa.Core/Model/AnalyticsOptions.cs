namespace Deisa.Model;

/// <summary>Settings of the analytics side of a run (docs/specification.md §4, <c>Deisa(...)</c>).</summary>
public sealed record AnalyticsOptions
{
    /// <summary>Where to listen: <c>unix:/path</c> or <c>tcp://host:port</c>; null = a Unix socket next to the rendezvous.</summary>
    public string? Address { get; init; }

    /// <summary>Rendezvous directory; null = <c>$DEISA_RENDEZVOUS</c> or <c>.deisa</c>.</summary>
    public string? RendezvousDirectory { get; init; }

    /// <summary>How many timesteps may be pending at once.</summary>
    public int MaxSimulationAhead { get; init; } = 1;

    /// <summary>Feedback entries kept per key.</summary>
    public int FeedbackQueueSize { get; init; } = 1024;

    /// <summary>Bytes of the node's shared-memory pool; null = <c>$DEISA_POOL_SIZE</c> or a default.</summary>
    public long? PoolBytes { get; init; }

    /// <summary>How long to wait for the simulation to register.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The ranks run on a cluster's nodes, whose node services (inside Dask workers) hold
    /// their blocks; the analytics then listens on TCP (<see cref="Address"/>).</summary>
    public bool Cluster { get; init; }

    /// <summary>Checks the settings (every door's): errors name the setting at fault.</summary>
    public void Validate()
    {
        if (MaxSimulationAhead < 1) throw DeisaException.Value($"max_simulation_ahead must be at least 1 (got {MaxSimulationAhead})");
        if (FeedbackQueueSize < 1) throw DeisaException.Value($"feedback_queue_size must be at least 1 (got {FeedbackQueueSize})");
        if (Timeout <= TimeSpan.Zero) throw DeisaException.Value($"timeout must be positive (got {Timeout.TotalSeconds} s)");
        if (PoolBytes is { } pool) ByteSize.CheckPositive(pool, "pool_size");
        if (Cluster && (Address is null || Address.StartsWith("unix:", StringComparison.Ordinal)))
            throw DeisaException.Value($"on a cluster the analytics listens on TCP for the nodes: give an address such as 'tcp://<this host's address>:0' (got {Address ?? "none"})");
    }
}
