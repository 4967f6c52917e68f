using System.Text.Json;
using Deisa.Engine.Head;
using Deisa.Engine.Node;

namespace Deisa.Server;

/// <summary>Writes a run's status as JSON (for <c>deisa status</c>), without reflection.</summary>
internal static class RunStatusJson
{
    public static void Write(Utf8JsonWriter w, RunStatus s, PoolUsage pool)
    {
        w.WriteStartObject();
        if (s.WorldSize is { } ws) w.WriteNumber("world_size", ws); else w.WriteNull("world_size");
        WriteInts(w, "connected_ranks", s.ConnectedRanks);
        WriteInts(w, "closed_ranks", s.ClosedRanks);
        WriteInts(w, "lost_ranks", s.LostRanks);
        if (s.LastProcessed is { } lp) w.WriteNumber("last_processed", lp); else w.WriteNull("last_processed");
        w.WriteNumber("pending_timesteps", s.PendingTimesteps);
        w.WriteNumber("max_simulation_ahead", s.MaxSimulationAhead);
        w.WriteStartArray("arrays");
        foreach (var a in s.Arrays)
        {
            w.WriteStartObject();
            w.WriteString("name", a.Name);
            w.WriteStartArray("global_shape"); foreach (var x in a.GlobalShape) w.WriteNumberValue(x); w.WriteEndArray();
            w.WriteStartArray("chunks");
            foreach (var c in a.Chunks) { w.WriteStartArray(); foreach (var x in c) w.WriteNumberValue(x); w.WriteEndArray(); }
            w.WriteEndArray();
            w.WriteString("dtype", a.DType);
            if (a.LastReceived is { } lr) w.WriteNumber("last_received", lr); else w.WriteNull("last_received");
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject("pool");
        w.WriteNumber("budget", pool.Budget);
        w.WriteNumber("allocated", pool.Allocated);
        w.WriteNumber("in_use", pool.InUse);
        w.WriteNumber("segments", pool.Segments);
        w.WriteNumber("blocks", pool.Blocks);
        w.WriteNumber("waiting_sends", pool.Waiting);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteInts(Utf8JsonWriter w, string name, IEnumerable<int> xs)
    {
        w.WriteStartArray(name);
        foreach (var x in xs) w.WriteNumberValue(x);
        w.WriteEndArray();
    }
}
