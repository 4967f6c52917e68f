using System.Diagnostics;

namespace Deisa.Dashboard;

/// <summary>
/// The dashboard's tables of a run of this process, from its snapshots. A page asks for all
/// its tables at each refresh: they share one snapshot, taken at most every
/// <see cref="SnapshotAge"/>.
/// </summary>
public sealed class RunTables(string token, Func<CancellationToken, Task<DashboardSnapshot>> snapshot) : IDashboardSource
{
    /// <summary>How long a snapshot serves the tables asked for.</summary>
    public static readonly TimeSpan SnapshotAge = TimeSpan.FromMilliseconds(250);

    private readonly SemaphoreSlim _lock = new(1, 1);
    private (DashboardSnapshot Snapshot, long At)? _last;

    /// <inheritdoc/>
    public string Token => token;

    /// <inheritdoc/>
    public async Task<byte[]?> TableAsync(string name, string? array, CancellationToken ct) =>
        DashboardTables.Names.Contains(name) ? DashboardTables.Write(name, array, await SnapshotAsync(ct).ConfigureAwait(false)) : null;

    private async Task<DashboardSnapshot> SnapshotAsync(CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_last is { } last && Stopwatch.GetElapsedTime(last.At) < SnapshotAge) return last.Snapshot;
            var taken = await snapshot(ct).ConfigureAwait(false);
            _last = (taken, Stopwatch.GetTimestamp());
            return taken;
        }
        finally { _lock.Release(); }
    }
}
