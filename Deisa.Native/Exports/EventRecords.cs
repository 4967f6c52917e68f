using System.Runtime.InteropServices;
using System.Text;
using Deisa.Engine.Head;
using Deisa.Engine.Messages;
using Deisa.Model;

namespace Deisa.Native.Exports;

/// <summary>
/// The head's events as packed records, for <c>deisa_analytics_read_events</c> (the layout is
/// documented in deisa.h). They are on the way from a rank's send to the callback: Python
/// reads them with a few struct and memoryview casts, where parsing JSON cost it tens of
/// microseconds per array event, and writing them is a handful of stores.
/// </summary>
internal static class EventRecords
{
    /// <summary>The bytes of <paramref name="e"/>'s record (a multiple of 8).</summary>
    public static int SizeOf(AnalyticsEvent e) => e switch
    {
        ArrayReady a => 32 + Padded(Encoding.UTF8.GetByteCount(a.Name))
                        + 8 * (a.Chunks.Length + ChunkCount(a.Chunks))
                        + 8 * a.Blocks.Count * (5 + 2 * a.GlobalShape.Length), // positions, then a row per block
        CallbackDue c => 24 + WindowsBytes(c),
        ArrayDropped d => 24 + Padded(Encoding.UTF8.GetByteCount(d.Name)),
        TimestepDone => 16,
        RunFailed f => 16 + Padded(Encoding.UTF8.GetByteCount(f.Message)),
        _ => 8,
    };

    /// <summary>Writes <paramref name="e"/>'s record at the start of <paramref name="into"/>;
    /// false (nothing written) if it does not fit. <paramref name="size"/> is its size either way.
    /// <paramref name="addressOf"/> gives where a block lies in this process.</summary>
    public static bool TryWrite(Span<byte> into, AnalyticsEvent e, Func<BlockLocation, nint> addressOf, out int size)
    {
        size = SizeOf(e);
        if (size > into.Length) return false;
        var w = new Writer(into[..size]);
        switch (e)
        {
            case ArrayReady a:
                w.Kind(EventKind.Array); w.Int32(size);
                w.Int64(a.Timestep);
                w.Int32((int)a.DType); w.Int32(a.GlobalShape.Length);
                w.Int32(a.Blocks.Count); w.Int32(Encoding.UTF8.GetByteCount(a.Name));
                w.Text(a.Name);
                foreach (var c in a.Chunks) w.Int64(c.Length);
                foreach (var c in a.Chunks) w.Int64s(c);
                // What stays the same from one timestep to the next comes first (a reader can
                // keep it, keyed by its bytes), then what each timestep's blocks change.
                for (int i = 0; i < a.Blocks.Count; i++) w.Int64s(a.Blocks[i].Position);
                for (int i = 0; i < a.Blocks.Count; i++)
                {
                    var b = a.Blocks[i];
                    w.Int64(b.Lease); w.Int64(addressOf(b.Location)); w.Int64(b.NBytes); w.Int64(b.Rank);
                    w.Int64((long)b.Order);
                    w.Int64s(b.Shape);
                }
                break;
            case CallbackDue c:
                w.Kind(EventKind.Callback); w.Int32(size);
                w.Int64(c.Timestep);
                w.Int32(c.CallbackId); w.Int32(c.Windows.Count);
                foreach (var (_, timesteps) in c.Windows)
                {
                    w.Int64(timesteps.Length);
                    w.Int64s(timesteps);
                }
                break;
            case ArrayDropped d:
                w.Kind(EventKind.Drop); w.Int32(size);
                w.Int64(d.Timestep);
                w.Int32(Encoding.UTF8.GetByteCount(d.Name)); w.Int32(0);
                w.Text(d.Name);
                break;
            case TimestepDone t:
                w.Kind(EventKind.TimestepDone); w.Int32(size);
                w.Int64(t.Timestep);
                break;
            case RunFailed f:
                w.Kind(EventKind.Failed); w.Int32(size);
                w.Int32((int)f.Status); w.Int32(Encoding.UTF8.GetByteCount(f.Message));
                w.Text(f.Message);
                break;
            default:
                w.Kind(EventKind.End); w.Int32(size);
                break;
        }
        return true;
    }

    private static int Padded(int bytes) => (bytes + 7) & ~7;

    private static int ChunkCount(long[][] chunks)
    {
        int n = 0;
        foreach (var c in chunks) n += c.Length;
        return n;
    }

    private static int WindowsBytes(CallbackDue c)
    {
        int n = 0;
        foreach (var (_, timesteps) in c.Windows) n += 8 * (1 + timesteps.Length);
        return n;
    }

    /// <summary>Stores in native byte order, front to back; text is zero-padded to 8 bytes.</summary>
    private ref struct Writer(Span<byte> into)
    {
        private readonly Span<byte> _into = into;
        private int _at;

        public void Kind(EventKind kind) => Int32((int)kind);

        public void Int32(int v)
        {
            MemoryMarshal.Write(_into[_at..], in v);
            _at += 4;
        }

        public void Int64(long v)
        {
            MemoryMarshal.Write(_into[_at..], in v);
            _at += 8;
        }

        public void Int64s(ReadOnlySpan<long> vs)
        {
            MemoryMarshal.AsBytes(vs).CopyTo(_into[_at..]);
            _at += 8 * vs.Length;
        }

        public void Text(string s)
        {
            int n = Encoding.UTF8.GetBytes(s, _into[_at..]);
            _into.Slice(_at + n, Padded(n) - n).Clear();
            _at += Padded(n);
        }
    }
}
