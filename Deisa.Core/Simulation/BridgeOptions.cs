using Deisa.Model;
namespace Deisa.Simulation;

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
