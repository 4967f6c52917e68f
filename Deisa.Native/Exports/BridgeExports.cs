using System.Runtime.InteropServices;
using Deisa.Model;
using Deisa.Protocol;
using Deisa.Simulation;

namespace Deisa.Native.Exports;

/// <summary>The simulation side of the C ABI (see include/deisa.h).</summary>
internal static unsafe class BridgeExports
{
    private const string B = "bridge";

    [UnmanagedCallersOnly(EntryPoint = "deisa_bridge_open")]
    public static int Open(int rank, int worldSize, byte* address, byte* rendezvous, double timeoutSeconds, int onAnalyticsFailure, nint* bridge) =>
        NativeCall.Run(() =>
        {
            var outp = NativeCall.Out(bridge, "bridge (out)");
            *outp = 0;
            if (!Enum.IsDefined((AnalyticsFailurePolicy)onAnalyticsFailure))
                throw new DeisaException(DeisaStatus.Value, $"on_analytics_failure must be DEISA_ON_FAILURE_WARN, _RAISE or _WAIT (got {onAnalyticsFailure})");
            var b = Bridge.Open(new BridgeOptions(rank, worldSize)
            {
                Address = NativeCall.OptionalUtf8(address, "address"),
                RendezvousDirectory = NativeCall.OptionalUtf8(rendezvous, "rendezvous"),
                Timeout = NativeCall.Seconds(timeoutSeconds, "timeout"),
                OnAnalyticsFailure = (AnalyticsFailurePolicy)onAnalyticsFailure,
            });
            *outp = HandleTable.Add(b);
        });

    [UnmanagedCallersOnly(EntryPoint = "deisa_bridge_declare_array")]
    public static int DeclareArray(nint bridge, byte* name, int ndim, long* globalShape, long* chunkShape, long* position, int dtype, int order) =>
        NativeCall.Run(() =>
        {
            var b = HandleTable.Get<Bridge>(bridge, B);
            var array = NativeCall.Utf8(name, "name");
            b.DeclareArray(array, NativeCall.Int64s(globalShape, ndim, $"array '{array}': global_shape"),
                NativeCall.Int64s(chunkShape, ndim, $"array '{array}': chunk_shape"), NativeCall.Int64s(position, ndim, $"array '{array}': chunk_position"),
                (DType)dtype, (MemoryOrder)order);
        });

    [UnmanagedCallersOnly(EntryPoint = "deisa_bridge_connect")]
    public static int Connect(nint bridge) => NativeCall.Run(() => HandleTable.Get<Bridge>(bridge, B).Connect());

    [UnmanagedCallersOnly(EntryPoint = "deisa_bridge_interrupt")]
    public static int Interrupt(nint bridge) => NativeCall.Run(() => HandleTable.Get<Bridge>(bridge, B).Interrupt());

    [UnmanagedCallersOnly(EntryPoint = "deisa_bridge_send")]
    public static int Send(nint bridge, byte* name, void* data, long nbytes, int dtype, int ndim, long* shape, int order, long timestep) =>
        NativeCall.Run(() =>
        {
            var b = HandleTable.Get<Bridge>(bridge, B);
            var array = NativeCall.Utf8(name, "name");
            if (data == null && nbytes > 0) throw new DeisaException(DeisaStatus.InvalidHandle, "data is NULL");
            if (nbytes < 0) throw new DeisaException(DeisaStatus.Value, $"array '{array}': nbytes must not be negative (got {nbytes})");
            if (nbytes > AbiConstants.MaxSendBytes)
                throw new DeisaException(DeisaStatus.Value, $"array '{array}': nbytes {nbytes} is more than deisa_bridge_send takes ({AbiConstants.MaxSendBytes} bytes); write larger blocks with deisa_bridge_acquire");
            // The analytics checks the block (shape, dtype, order, size) against the declaration.
            b.Send(array, new ReadOnlySpan<byte>(data, (int)nbytes), (DType)dtype, NativeCall.Int64s(shape, ndim, "shape"), (MemoryOrder)order, timestep);
        });

    [UnmanagedCallersOnly(EntryPoint = "deisa_bridge_acquire")]
    public static int Acquire(nint bridge, byte* name, long timestep, int dtype, void** data, long* nbytes, nint* block) =>
        NativeCall.Run(() =>
        {
            var b = HandleTable.Get<Bridge>(bridge, B);
            var d = NativeCall.Out(data, "data (out)");
            var n = NativeCall.Out(nbytes, "nbytes (out)");
            var h = NativeCall.Out(block, "block (out)");
            *d = null; *n = 0; *h = 0;
            var array = NativeCall.Utf8(name, "name");
            var buffer = b.Acquire(array, timestep, (DType)dtype);
            *d = (void*)buffer.Address;
            *n = buffer.NBytes;
            *h = HandleTable.Add(buffer);
        });

    [UnmanagedCallersOnly(EntryPoint = "deisa_block_commit")]
    public static int Commit(nint block) => NativeCall.Run(() => HandleTable.Remove<BlockBuffer>(block, "block").Commit());

    [UnmanagedCallersOnly(EntryPoint = "deisa_block_abandon")]
    public static int Abandon(nint block) => NativeCall.Run(() => HandleTable.Remove<BlockBuffer>(block, "block").Dispose());

    [UnmanagedCallersOnly(EntryPoint = "deisa_bridge_get_feedback")]
    public static int GetFeedback(nint bridge, byte* key, int hasTimestep, long timestep, nint* feedback, int* found) =>
        NativeCall.Run(() =>
        {
            var b = HandleTable.Get<Bridge>(bridge, B);
            var f = NativeCall.Out(feedback, "feedback (out)");
            var ok = NativeCall.Out(found, "found (out)");
            *f = 0; *ok = 0;
            var answer = b.GetFeedback(NativeCall.Utf8(key, "key"), hasTimestep != 0 ? timestep : null);
            if (answer is null) return;
            *ok = 1;
            *f = HandleTable.Add(answer);
        });

    [UnmanagedCallersOnly(EntryPoint = "deisa_feedback_count")]
    public static int FeedbackCount(nint feedback, long* count) => NativeCall.Run(() =>
    {
        var a = HandleTable.Get<FeedbackAnswer>(feedback, "feedback");
        *NativeCall.Out(count, "count (out)") = a.Entries?.Count ?? 1;
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_feedback_entry")]
    public static int FeedbackEntry(nint feedback, long index, long* timestep, int* kind, void** data, long* nbytes) => NativeCall.Run(() =>
    {
        var a = HandleTable.Get<FeedbackAnswer>(feedback, "feedback");
        // Every out-parameter is checked before any is written: a failed call writes nothing.
        var ts = NativeCall.Out(timestep, "timestep (out)");
        var k = NativeCall.Out(kind, "kind (out)");
        var d = NativeCall.Out(data, "data (out)");
        var n = NativeCall.Out(nbytes, "nbytes (out)");
        long count = a.Entries?.Count ?? 1;
        if (index < 0 || index >= count) throw new DeisaException(DeisaStatus.Value, $"feedback entry {index} is out of range (count {count})");
        var (t, v) = a.Entries is { } e ? e[(int)index] : (long.MinValue, a.Value!);
        *ts = t;
        *k = (int)v.Kind;
        *n = v.Data.Length;
        // The bytes stay valid until deisa_feedback_free: they live in a pinned copy.
        *d = PinnedBytes.Of(v);
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_feedback_free")]
    public static int FeedbackFree(nint feedback) => NativeCall.Run(() =>
    {
        if (feedback == 0) return;
        var a = HandleTable.Remove<FeedbackAnswer>(feedback, "feedback");
        if (a.Value is { } v) PinnedBytes.Free(v);
        if (a.Entries is { } es) foreach (var (_, ev) in es) PinnedBytes.Free(ev);
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_bridge_get_int64")]
    public static int GetInt64(nint bridge, byte* key, long timestep, long* value, int* found) => NativeCall.Run(() =>
    {
        var b = HandleTable.Get<Bridge>(bridge, B);
        var v = NativeCall.Out(value, "value (out)");
        var ok = NativeCall.Out(found, "found (out)");
        *ok = 0;
        var k = NativeCall.Utf8(key, "key");
        if (b.GetFeedback(k, timestep)?.Value is not { } fv) return;
        if (!fv.TryGetInt64(out long x)) throw new DeisaException(DeisaStatus.Type, $"feedback '{k}' at timestep {timestep} is a {fv.Kind}, not an integer");
        *v = x; *ok = 1;
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_bridge_get_double")]
    public static int GetDouble(nint bridge, byte* key, long timestep, double* value, int* found) => NativeCall.Run(() =>
    {
        var b = HandleTable.Get<Bridge>(bridge, B);
        var v = NativeCall.Out(value, "value (out)");
        var ok = NativeCall.Out(found, "found (out)");
        *ok = 0;
        var k = NativeCall.Utf8(key, "key");
        if (b.GetFeedback(k, timestep)?.Value is not { } fv) return;
        if (!fv.TryGetDouble(out double x)) throw new DeisaException(DeisaStatus.Type, $"feedback '{k}' at timestep {timestep} is a {fv.Kind}, not a number");
        *v = x; *ok = 1;
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_bridge_get_string")]
    public static int GetString(nint bridge, byte* key, long timestep, byte* buffer, long capacity, long* length, int* found) => NativeCall.Run(() =>
    {
        var b = HandleTable.Get<Bridge>(bridge, B);
        var len = NativeCall.Out(length, "length (out)");
        var ok = NativeCall.Out(found, "found (out)");
        *ok = 0; *len = 0;
        if (capacity < 0) throw new DeisaException(DeisaStatus.Value, $"capacity must not be negative (got {capacity})");
        if (buffer == null && capacity > 0) throw new DeisaException(DeisaStatus.InvalidHandle, "buffer is NULL");
        var k = NativeCall.Utf8(key, "key");
        if (b.GetFeedback(k, timestep)?.Value is not { } fv) return;
        if (!fv.TryGetString(out var s)) throw new DeisaException(DeisaStatus.Type, $"feedback '{k}' at timestep {timestep} is a {fv.Kind}, not text");
        var bytes = System.Text.Encoding.UTF8.GetBytes(s);
        *len = bytes.Length; *ok = 1;
        if (capacity > 0)
        {
            int n = (int)Math.Min(bytes.Length, capacity - 1);
            bytes.AsSpan(0, n).CopyTo(new Span<byte>(buffer, n));
            buffer[n] = 0;
        }
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_bridge_close")]
    public static int Close(nint bridge, int hasTimestep, long timestep) =>
        NativeCall.Run(() => HandleTable.Get<Bridge>(bridge, B).Close(hasTimestep != 0 ? timestep : null));

    [UnmanagedCallersOnly(EntryPoint = "deisa_bridge_free")]
    public static int Free(nint bridge) => NativeCall.Run(() =>
    {
        if (bridge == 0) return;
        HandleTable.Remove<Bridge>(bridge, B).Dispose();
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_bridge_analytics_lost")]
    public static int IsAnalyticsLost(nint bridge, int* lost) => NativeCall.Run(() =>
        *NativeCall.Out(lost, "lost (out)") = HandleTable.Get<Bridge>(bridge, B).AnalyticsLost ? 1 : 0);
}

/// <summary>Pinned copies of feedback bytes handed to C until the answer is freed.</summary>
internal static unsafe class PinnedBytes
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<FeedbackValue, nint> s_pinned = new(ReferenceEqualityComparer.Instance);

    public static void* Of(FeedbackValue v) => (void*)s_pinned.GetOrAdd(v, static v =>
    {
        var p = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, v.Data.Length));
        v.Data.CopyTo(new Span<byte>(p, v.Data.Length));
        return (nint)p;
    });

    public static void Free(FeedbackValue v)
    {
        if (s_pinned.TryRemove(v, out var p)) NativeMemory.Free((void*)p);
    }
}
