using System.Text.Json;
using Deisa.Analytics;
using Deisa.Arrays;

namespace Deisa.Native.Exports;

/// <summary>The head's events as JSON for the Python package (one object per event, "kind" first).</summary>
internal static class EventJson
{
    public static void Write(Utf8JsonWriter w, AnalyticsEvent e)
    {
        w.WriteStartObject();
        switch (e)
        {
            case ArrayReady a:
                w.WriteString("kind", "array");
                w.WriteString("name", a.Name);
                w.WriteNumber("timestep", a.Timestep);
                w.WriteString("dtype", DTypes.NumpyName(a.DType));
                AnalyticsExports.WriteLongs(w, "global_shape", a.GlobalShape);
                w.WriteStartArray("chunks");
                foreach (var c in a.Chunks) AnalyticsExports.WriteLongs(w, null, c);
                w.WriteEndArray();
                w.WriteStartArray("blocks");
                foreach (var b in a.Blocks)
                {
                    w.WriteStartObject();
                    AnalyticsExports.WriteLongs(w, "position", b.Position);
                    AnalyticsExports.WriteLongs(w, "shape", b.Shape);
                    w.WriteString("order", b.Order == MemoryOrder.Fortran ? "F" : "C");
                    w.WriteNumber("lease", b.Lease);
                    w.WriteNumber("address", (long)b.Address);
                    w.WriteNumber("nbytes", b.NBytes);
                    w.WriteNumber("rank", b.Rank);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                break;
            case CallbackDue c:
                w.WriteString("kind", "callback");
                w.WriteNumber("callback", c.CallbackId);
                w.WriteNumber("timestep", c.Timestep);
                w.WriteStartObject("windows");
                foreach (var (name, ts) in c.Windows) AnalyticsExports.WriteLongs(w, name, ts);
                w.WriteEndObject();
                break;
            case ArrayDropped d:
                w.WriteString("kind", "drop");
                w.WriteString("name", d.Name);
                w.WriteNumber("timestep", d.Timestep);
                break;
            case TimestepDone t:
                w.WriteString("kind", "timestep_done");
                w.WriteNumber("timestep", t.Timestep);
                break;
            case RunFailed f:
                w.WriteString("kind", "failed");
                w.WriteNumber("status", (int)f.Status);
                w.WriteString("message", f.Message);
                break;
            case RunEnded:
                w.WriteString("kind", "end");
                break;
        }
        w.WriteEndObject();
    }
}
