using System.Globalization;

namespace Deisa.Dashboard;

/// <summary>
/// The tables the dashboard's page reads, each an Arrow IPC stream built from a
/// <see cref="DashboardSnapshot"/>. Times are seconds since the run started; a timestep that
/// is not known yet is null. The page (Dashboard/Assets/dashboard.js) reads the columns named
/// here, and the dashboard's tests read them back with Arrow's reader.
/// </summary>
public static class DashboardTables
{
    /// <summary>Every table's name, as the page asks for it (<c>/api/NAME</c>).</summary>
    public static readonly IReadOnlyList<string> Names =
        ["run", "ranks", "nodes", "arrays", "timesteps", "callbacks", "feedback", "errors", "pictures", "picture", "reductions"];

    /// <summary>Table <paramref name="name"/> (<paramref name="array"/> names the array of
    /// "picture" and "reductions"); null for a name not in <see cref="Names"/>.</summary>
    public static byte[]? Write(string name, string? array, DashboardSnapshot s) => name switch
    {
        "run" => Run(s),
        "ranks" => Ranks(s),
        "nodes" => Nodes(s),
        "arrays" => Arrays(s),
        "timesteps" => Timesteps(s),
        "callbacks" => Callbacks(s),
        "feedback" => Feedback(s),
        "errors" => Errors(s),
        "pictures" => Pictures(s),
        "picture" => Picture(s, array),
        "reductions" => Reductions(s, array),
        _ => null,
    };

    /// <summary>One row: the run's state and its counters.</summary>
    private static byte[] Run(DashboardSnapshot s)
    {
        var st = s.Status;
        var a = s.Activity;
        long? newest = st.Arrays.Select(x => x.LastReceived).Max();
        long? ahead = newest is { } n ? n - (st.LastProcessed ?? -1) : null;
        var pool = st.Pool;
        return new ArrowTable()
            .Utf8("session", [s.Session])
            .Utf8("state", [s.State])
            .Utf8("started_at", [a.StartedAt.ToString("u", CultureInfo.InvariantCulture)])
            .Double("uptime_s", [a.Now])
            .Int64("world_size", [st.WorldSize])
            .Int64("ranks_registered", [st.ConnectedRanks.Count])
            .Int64("ranks_connected", [st.ConnectedRanks.Count(r => !st.ClosedRanks.Contains(r) && !st.LostRanks.Contains(r))])
            .Int64("ranks_closed", [st.ClosedRanks.Count])
            .Int64("ranks_lost", [st.LostRanks.Count])
            .Int64("nodes", [st.Nodes?.Count ?? 1])
            .Int64("arrays", [st.Arrays.Count])
            .Int64("timesteps_processed", [a.TimestepsProcessed])
            .Int64("last_processed", [st.LastProcessed])
            .Int64("newest_received", [newest])
            .Int64("ahead", [ahead])
            .Int64("max_simulation_ahead", [st.MaxSimulationAhead])
            .Int64("pending_timesteps", [st.PendingTimesteps])
            .Int64("pool_budget", [pool?.Budget])
            .Int64("pool_allocated", [pool?.Allocated])
            .Int64("pool_in_use", [pool?.InUse])
            .Int64("pool_segments", [pool?.Segments])
            .Int64("pool_blocks", [pool?.Blocks])
            .Int64("waiting_sends", [pool?.WaitingSends])
            .Int64("errors", [AllErrors(s).Count])
            .Double("callback_seconds", [a.Callbacks.Sum(c => c.Seconds)])
            .ToIpc();
    }

    /// <summary>A row per rank of the world: connected (registered), closed (its bridge
    /// closed), lost, or not connected yet; and its node (0: the analytics' own).</summary>
    private static byte[] Ranks(DashboardSnapshot s)
    {
        var st = s.Status;
        var node = new Dictionary<int, int>();
        foreach (var n in st.Nodes ?? []) foreach (var r in n.Ranks) node[r] = n.Node;
        int world = st.WorldSize ?? (st.ConnectedRanks.Count > 0 ? st.ConnectedRanks.Max() + 1 : 0);
        var ranks = Enumerable.Range(0, world).ToList();
        return new ArrowTable()
            .Int64("rank", ranks.Select(r => (long?)r))
            .Utf8("state", ranks.Select(r =>
                st.LostRanks.Contains(r) ? "lost" : st.ClosedRanks.Contains(r) ? "closed"
                : st.ConnectedRanks.Contains(r) ? "connected" : "not connected"))
            .Int64("node", ranks.Select(r => (long?)node.GetValueOrDefault(r)))
            .ToIpc();
    }

    /// <summary>A row per node: the analytics' own (node 0) alone unless the run is on a cluster.</summary>
    private static byte[] Nodes(DashboardSnapshot s)
    {
        var st = s.Status;
        var nodes = st.Nodes is { Count: > 0 } list ? list
            : [new Engine.Head.NodeStatus(0, Environment.MachineName, "", [.. st.ConnectedRanks.Order()], null, st.Pool)];
        return new ArrowTable()
            .Int64("node", nodes.Select(n => (long?)n.Node))
            .Utf8("host", nodes.Select(n => n.Host))
            .Utf8("worker", nodes.Select(n => n.Worker))
            .Int64("ranks", nodes.Select(n => (long?)n.Ranks.Count))
            .Utf8("lost", nodes.Select(n => n.Lost))
            .Int64("pool_in_use", nodes.Select(n => n.Pool?.InUse))
            .Int64("pool_budget", nodes.Select(n => n.Pool?.Budget))
            .ToIpc();
    }

    /// <summary>A row per array the simulation declared: its layout and newest timestep received.</summary>
    private static byte[] Arrays(DashboardSnapshot s)
    {
        var arrays = s.Status.Arrays;
        return new ArrowTable()
            .Utf8("name", arrays.Select(a => a.Name))
            .Utf8("dtype", arrays.Select(a => a.DType))
            .Utf8("shape", arrays.Select(a => string.Join(" × ", a.GlobalShape)))
            .Int64("blocks", arrays.Select(a => (long?)a.Chunks.Aggregate(1L, (p, c) => p * c.Length)))
            .Utf8("chunks", arrays.Select(a => string.Join(" × ", a.Chunks.Select(Chunks))))
            .Int64("last_received", arrays.Select(a => a.LastReceived))
            .ToIpc();

        static string Chunks(long[] c) => c.Distinct().Count() == 1 ? $"{c.Length}×{c[0]}" : $"({string.Join(", ", c)})";
    }

    /// <summary>A row per timestep processed (the newest <see cref="RunActivity.MaxRows"/>).</summary>
    private static byte[] Timesteps(DashboardSnapshot s)
    {
        var t = s.Activity.Timesteps;
        return new ArrowTable()
            .Int64("timestep", t.Select(x => (long?)x.Timestep))
            .Double("processed_at", t.Select(x => x.At))
            .Double("callback_seconds", t.Select(x => x.CallbackSeconds))
            .ToIpc();
    }

    /// <summary>A row per callback: its runs, failures and times.</summary>
    private static byte[] Callbacks(DashboardSnapshot s)
    {
        var c = s.Activity.Callbacks;
        return new ArrowTable()
            .Utf8("name", c.Select(x => x.Name))
            .Int64("runs", c.Select(x => (long?)x.Runs))
            .Int64("failures", c.Select(x => (long?)x.Failures))
            .Double("seconds", c.Select(x => x.Seconds))
            .Double("mean_ms", c.Select(x => x.Runs == 0 ? 0 : x.Seconds * 1e3 / x.Runs))
            .Double("last_ms", c.Select(x => x.LastSeconds * 1e3))
            .Int64("last_timestep", c.Select(x => (long?)x.LastTimestep))
            .ToIpc();
    }

    /// <summary>A row per feedback key: its newest value.</summary>
    private static byte[] Feedback(DashboardSnapshot s)
    {
        var f = s.Activity.Feedback;
        return new ArrowTable()
            .Utf8("key", f.Select(x => x.Key))
            .Int64("timestep", f.Select(x => (long?)x.Timestep))
            .Utf8("value", f.Select(x => x.Value))
            .Double("set_at", f.Select(x => x.At))
            .ToIpc();
    }

    /// <summary>A row per error (the newest <see cref="RunActivity.MaxRows"/>), newest last;
    /// a lost rank or node is an error too.</summary>
    private static byte[] Errors(DashboardSnapshot s)
    {
        var e = AllErrors(s);
        return new ArrowTable()
            .Double("at", e.Select(x => x.At))
            .Utf8("source", e.Select(x => x.Source))
            .Int64("timestep", e.Select(x => x.Timestep))
            .Utf8("message", e.Select(x => x.Message))
            .ToIpc();
    }

    private static List<ErrorRecord> AllErrors(DashboardSnapshot s)
    {
        var e = s.Activity.Errors.ToList();
        foreach (var n in s.Status.Nodes ?? []) if (n.Lost is { } why) e.Add(new ErrorRecord(s.Activity.Now, $"node {n.Node}", null, why));
        foreach (var r in s.Status.LostRanks) e.Add(new ErrorRecord(s.Activity.Now, $"rank {r}", null, "lost"));
        return e;
    }

    /// <summary>A row per array that has a picture: which timestep, its size and slice.</summary>
    private static byte[] Pictures(DashboardSnapshot s)
    {
        var p = s.Activity.Pictures.Values.OrderBy(x => x.Array, StringComparer.Ordinal).ToList();
        return new ArrowTable()
            .Utf8("array", p.Select(x => x.Array))
            .Int64("timestep", p.Select(x => (long?)x.Timestep))
            .Int64("rows", p.Select(x => (long?)x.Rows))
            .Int64("columns", p.Select(x => (long?)x.Columns))
            .Utf8("slice", p.Select(x => x.Slice))
            .ToIpc();
    }

    /// <summary>An array's newest picture: its values row by row in one column, the picture's
    /// array, timestep, rows, columns and slice in the schema's metadata (no rows if it has none).</summary>
    private static byte[] Picture(DashboardSnapshot s, string? array)
    {
        var table = new ArrowTable();
        if (array is not null && s.Activity.Pictures.TryGetValue(array, out var p))
        {
            table.Metadata("array", p.Array).Metadata("timestep", p.Timestep.ToString(CultureInfo.InvariantCulture))
                .Metadata("rows", p.Rows.ToString(CultureInfo.InvariantCulture)).Metadata("columns", p.Columns.ToString(CultureInfo.InvariantCulture))
                .Metadata("slice", p.Slice);
            return table.Double("value", p.Values).ToIpc();
        }
        return table.Double("value", []).ToIpc();
    }

    /// <summary>An array's reductions over time: a row per timestep reduced.</summary>
    private static byte[] Reductions(DashboardSnapshot s, string? array)
    {
        IReadOnlyList<ReductionPoint> r = array is not null && s.Activity.Reductions.TryGetValue(array, out var points) ? points : [];
        return new ArrowTable()
            .Int64("timestep", r.Select(x => (long?)x.Timestep))
            .Double("mean", r.Select(x => x.Mean))
            .Double("min", r.Select(x => x.Min))
            .Double("max", r.Select(x => x.Max))
            .ToIpc();
    }
}
