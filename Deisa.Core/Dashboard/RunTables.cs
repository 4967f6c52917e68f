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
    private Taken? _last;
    private int _refreshes; // a snapshot taken across a Refresh is not kept

    private sealed record Taken(DashboardSnapshot Snapshot, long At);

    /// <inheritdoc/>
    public string Token => token;

    /// <inheritdoc/>
    public async Task<byte[]?> TableAsync(string name, string? array, CancellationToken ct) =>
        DashboardTables.Names.Contains(name) ? DashboardTables.Write(name, array, await SnapshotAsync(ct).ConfigureAwait(false)) : null;

    /// <summary>The run changed in a way the next tables must show at once (it ended): the
    /// snapshot kept is dropped.</summary>
    public void Refresh()
    {
        Interlocked.Increment(ref _refreshes);
        Volatile.Write(ref _last, null);
    }

    private async Task<DashboardSnapshot> SnapshotAsync(CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _last) is { } last && Stopwatch.GetElapsedTime(last.At) < SnapshotAge) return last.Snapshot;
            int refreshes = Volatile.Read(ref _refreshes);
            var taken = await snapshot(ct).ConfigureAwait(false);
            if (Volatile.Read(ref _refreshes) == refreshes) Volatile.Write(ref _last, new Taken(taken, Stopwatch.GetTimestamp()));
            return taken;
        }
        finally { _lock.Release(); }
    }
}
