using System.Text.Json;
using Deisa.Engine.Head;
using Deisa.Model;
using Deisa.Protocol;

namespace Deisa.Native.Exports;

/// <summary>The head's events as JSON for the Python package (one object per event, "kind" first).</summary>
/// <remarks>An array's event is on the way from a rank's send to the callback: its property
/// names are encoded once, not escaped and transcoded at every event.</remarks>
internal static class EventJson
{
    /// <summary>Property names and fixed values, encoded once.</summary>
    private static class Names
    {
        public static readonly JsonEncodedText Kind = JsonEncodedText.Encode("kind");
        public static readonly JsonEncodedText Array = JsonEncodedText.Encode("array");
        public static readonly JsonEncodedText Name = JsonEncodedText.Encode("name");
        public static readonly JsonEncodedText Timestep = JsonEncodedText.Encode("timestep");
        public static readonly JsonEncodedText DType = JsonEncodedText.Encode("dtype");
        public static readonly JsonEncodedText GlobalShape = JsonEncodedText.Encode("global_shape");
        public static readonly JsonEncodedText Chunks = JsonEncodedText.Encode("chunks");
        public static readonly JsonEncodedText Blocks = JsonEncodedText.Encode("blocks");
        public static readonly JsonEncodedText Position = JsonEncodedText.Encode("position");
        public static readonly JsonEncodedText Shape = JsonEncodedText.Encode("shape");
        public static readonly JsonEncodedText Order = JsonEncodedText.Encode("order");
        public static readonly JsonEncodedText C = JsonEncodedText.Encode("C");
        public static readonly JsonEncodedText F = JsonEncodedText.Encode("F");
        public static readonly JsonEncodedText Lease = JsonEncodedText.Encode("lease");
        public static readonly JsonEncodedText Address = JsonEncodedText.Encode("address");
        public static readonly JsonEncodedText NBytes = JsonEncodedText.Encode("nbytes");
        public static readonly JsonEncodedText Rank = JsonEncodedText.Encode("rank");
        public static readonly JsonEncodedText Callback = JsonEncodedText.Encode("callback");
        public static readonly JsonEncodedText Windows = JsonEncodedText.Encode("windows");
    }

    public static void Write(Utf8JsonWriter w, AnalyticsEvent e)
    {
        w.WriteStartObject();
        switch (e)
        {
            case ArrayReady a:
                w.WriteString(Names.Kind, Names.Array);
                w.WriteString(Names.Name, a.Name);
                w.WriteNumber(Names.Timestep, a.Timestep);
                w.WriteString(Names.DType, DTypes.NumpyName(a.DType));
                AnalyticsExports.WriteLongs(w, Names.GlobalShape, a.GlobalShape);
                w.WriteStartArray(Names.Chunks);
                foreach (var c in a.Chunks) AnalyticsExports.WriteLongs(w, null, c);
                w.WriteEndArray();
                w.WriteStartArray(Names.Blocks);
                for (int i = 0; i < a.Blocks.Count; i++)
                {
                    var b = a.Blocks[i];
                    w.WriteStartObject();
                    AnalyticsExports.WriteLongs(w, Names.Position, b.Position);
                    AnalyticsExports.WriteLongs(w, Names.Shape, b.Shape);
                    w.WriteString(Names.Order, b.Order == MemoryOrder.Fortran ? Names.F : Names.C);
                    w.WriteNumber(Names.Lease, b.Lease);
                    w.WriteNumber(Names.Address, (long)b.Address);
                    w.WriteNumber(Names.NBytes, b.NBytes);
                    w.WriteNumber(Names.Rank, b.Rank);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                break;
            case CallbackDue c:
                w.WriteString(Names.Kind, Names.Callback);
                w.WriteNumber(Names.Callback, c.CallbackId);
                w.WriteNumber(Names.Timestep, c.Timestep);
                w.WriteStartObject(Names.Windows);
                foreach (var (name, ts) in c.Windows) AnalyticsExports.WriteLongs(w, name, ts);
                w.WriteEndObject();
                break;
            case ArrayDropped d:
                w.WriteString(Names.Kind, "drop");
                w.WriteString(Names.Name, d.Name);
                w.WriteNumber(Names.Timestep, d.Timestep);
                break;
            case TimestepDone t:
                w.WriteString(Names.Kind, "timestep_done");
                w.WriteNumber(Names.Timestep, t.Timestep);
                break;
            case RunFailed f:
                w.WriteString(Names.Kind, "failed");
                w.WriteNumber("status", (int)f.Status);
                w.WriteString("message", f.Message);
                break;
            case RunEnded:
                w.WriteString(Names.Kind, "end");
                break;
        }
        w.WriteEndObject();
    }
}
