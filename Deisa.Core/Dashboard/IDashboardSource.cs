namespace Deisa.Dashboard;

/// <summary>Where a dashboard takes what it shows: a run of this process, or a run reached
/// through its control server.</summary>
public interface IDashboardSource
{
    /// <summary>The session token that guards the dashboard.</summary>
    string Token { get; }

    /// <summary>The run now (or as it ended).</summary>
    Task<DashboardSnapshot> SnapshotAsync(CancellationToken ct);
}
