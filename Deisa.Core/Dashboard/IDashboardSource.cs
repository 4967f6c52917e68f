namespace Deisa.Dashboard;

/// <summary>Where a dashboard takes its tables (<see cref="DashboardTables"/>): a run of this
/// process (<see cref="RunTables"/>), or a run reached through its control server
/// (<see cref="RemoteRunTables"/>).</summary>
public interface IDashboardSource
{
    /// <summary>The session token that guards the dashboard.</summary>
    string Token { get; }

    /// <summary>Table <paramref name="name"/> as an Arrow IPC stream (<paramref name="array"/>
    /// names the array of "picture" and "reductions"); null if there is no such table.</summary>
    /// <exception cref="Model.DeisaException">The run cannot be reached.</exception>
    Task<byte[]?> TableAsync(string name, string? array, CancellationToken ct);
}
