using Deisa.Engine.Head;

namespace Deisa.Dashboard;

/// <summary>What the dashboard shows at one moment: the run's status as the head and the
/// node report it, and its <see cref="RunActivity"/>. <paramref name="Ended"/> says why the run
/// ended (null while it runs).</summary>
public sealed record DashboardSnapshot(string Session, RunStatus Status, ActivitySnapshot Activity, string? Ended)
{
    /// <summary>One line for the page's header.</summary>
    public string State =>
        Ended is { } why ? $"ended: {why}"
        : Status.WorldSize is not { } world ? "waiting for the simulation"
        : Status.ConnectedRanks.Count + Status.ClosedRanks.Count + Status.LostRanks.Count < world ? $"waiting for ranks ({Status.ConnectedRanks.Count} of {world} connected)"
        : "running";
}
