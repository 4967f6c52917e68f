namespace Deisa.Bridge;

/// <summary>What a bridge does when the analytics goes away (SPEC §8).</summary>
public enum AnalyticsFailurePolicy
{
    /// <summary>Warn once; later sends are no-ops and feedback is "not found".</summary>
    Warn = 0,
    /// <summary>Every call fails with <see cref="Errors.DeisaStatus.AnalyticsLost"/>.</summary>
    Raise = 1,
}

/// <summary>Settings of one rank's bridge.</summary>
public sealed record BridgeOptions(int Rank, int WorldSize)
{
    /// <summary>Analytics address; null = read it from the rendezvous directory.</summary>
    public string? Address { get; init; }

    /// <summary>Rendezvous directory; null = <c>$DEISA_RENDEZVOUS</c> or <c>.deisa</c>.</summary>
    public string? RendezvousDirectory { get; init; }

    /// <summary>How long any wait may last (analytics to appear, other ranks, back-pressure).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>What to do when the analytics goes away.</summary>
    public AnalyticsFailurePolicy OnAnalyticsFailure { get; init; } = AnalyticsFailurePolicy.Warn;
}
