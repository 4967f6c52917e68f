using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Deisa.Engine.Head;
using Deisa.Hosting;
using Deisa.Model;
using Deisa.Platform;
using Deisa.Protocol;
using Deisa.Simulation;

namespace Deisa.Native.Exports;

/// <summary>
/// The analytics side of the C ABI, used by the Python package: start a run, register
/// callbacks, read the head's events (as JSON or packed records), release blocks, set feedback.
/// </summary>
internal static unsafe class AnalyticsExports
{
    private const string A = "analytics";

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_start")]
    public static int Start(byte* address, byte* rendezvous, int maxSimulationAhead, int feedbackQueueSize, long poolBytes, double timeoutSeconds, nint* analytics) =>
        NativeCall.Run(() =>
        {
            var outp = NativeCall.Out(analytics, "analytics (out)");
            *outp = 0;
            if (poolBytes < 0) throw new DeisaException(DeisaStatus.Value, $"pool_size must be positive (got {poolBytes})");
            var run = NativeCall.Wait(AnalyticsRun.StartAsync(new AnalyticsOptions
            {
                Address = NativeCall.OptionalUtf8(address, "address"),
                RendezvousDirectory = NativeCall.OptionalUtf8(rendezvous, "rendezvous"),
                MaxSimulationAhead = maxSimulationAhead,
                FeedbackQueueSize = feedbackQueueSize,
                PoolBytes = poolBytes == 0 ? null : poolBytes,
                Timeout = NativeCall.Seconds(timeoutSeconds, "timeout"),
            }));
            *outp = HandleTable.Add(run);
        });

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_info")]
    public static int Info(nint analytics, byte** json) => NativeCall.Run(() =>
    {
        var run = HandleTable.Get<AnalyticsRun>(analytics, A);
        var o = NativeCall.Out(json, "json (out)");
        *o = null;
        *o = Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("session", run.Info.Session);
            w.WriteString("address", run.Info.Address);
            w.WriteString("rendezvous", run.RendezvousDirectory);
            w.WriteNumber("pool_bytes", run.Node.PoolBudget);
            w.WriteEndObject();
        });
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_add_callback")]
    public static int AddCallback(nint analytics, byte* name, int nInputs, byte** arrays, int* windowSizes, int when, int* id) =>
        NativeCall.Run(() =>
        {
            var run = HandleTable.Get<AnalyticsRun>(analytics, A);
            var o = NativeCall.Out(id, "id (out)");
            if (nInputs < 1) throw new DeisaException(DeisaStatus.Value, $"n_inputs must be at least 1: a callback needs at least one input array (got {nInputs})");
            if (arrays == null) throw new DeisaException(DeisaStatus.InvalidHandle, "arrays is NULL");
            if (windowSizes == null) throw new DeisaException(DeisaStatus.InvalidHandle, "window_sizes is NULL");
            if (when is not (0 or 1)) throw new DeisaException(DeisaStatus.Value, $"when must be 0 (AND) or 1 (OR) (got {when})");
            var inputs = new List<WindowSpec>();
            for (int i = 0; i < nInputs; i++) inputs.Add(new WindowSpec(NativeCall.Utf8(arrays[i], $"arrays[{i}]"), windowSizes[i]));
            *o = NativeCall.Wait(run.AddCallbackAsync(NativeCall.Utf8(name, "name"), inputs, (FiringRule)when));
        });

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_wait_for_simulation")]
    public static int WaitForSimulation(nint analytics, byte** json) => NativeCall.Run(() =>
    {
        var run = HandleTable.Get<AnalyticsRun>(analytics, A);
        var o = NativeCall.Out(json, "json (out)");
        *o = null;
        var layouts = NativeCall.Wait(run.WaitForSimulationAsync());
        *o = Json(w =>
        {
            w.WriteStartObject();
            foreach (var l in layouts.Values.OrderBy(l => l.Name, StringComparer.Ordinal))
            {
                w.WriteStartObject(l.Name);
                WriteLongs(w, "global_shape", l.GlobalShape);
                w.WriteStartArray("chunks");
                foreach (var c in l.Chunks) WriteLongs(w, null, c);
                w.WriteEndArray();
                w.WriteString("dtype", DTypes.NumpyName(l.DType));
                w.WriteEndObject();
            }
            w.WriteEndObject();
        });
    });

    /// <summary>Next event as JSON; DEISA_PENDING if none came within <paramref name="waitSeconds"/>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_next_event")]
    public static int NextEvent(nint analytics, double waitSeconds, byte** json) => NativeCall.Run(() =>
    {
        var run = HandleTable.Get<AnalyticsRun>(analytics, A);
        var o = NativeCall.Out(json, "json (out)");
        *o = null;
        var e = run.NextEvent(EventWait(waitSeconds));
        if (e is null) return DeisaStatus.Pending;
        *o = Json(w => EventJson.Write(w, e));
        return DeisaStatus.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_next_events")]
    public static int NextEvents(nint analytics, double waitSeconds, byte** json) => NativeCall.Run(() =>
    {
        var run = HandleTable.Get<AnalyticsRun>(analytics, A);
        var o = NativeCall.Out(json, "json (out)");
        *o = null;
        var events = new List<AnalyticsEvent>(4);
        if (run.NextEvents(EventWait(waitSeconds), events) == 0) return DeisaStatus.Pending;
        *o = Json(w =>
        {
            w.WriteStartArray();
            foreach (var e in events) EventJson.Write(w, e);
            w.WriteEndArray();
        });
        return DeisaStatus.Ok;
    });

    /// <summary>
    /// As next_events, as packed records written into the caller's buffer (deisa.h gives their
    /// layout): as many whole records as fit. A first record that does not fit stays queued:
    /// DEISA_ERR_VALUE, with the bytes it needs in *length.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_read_events")]
    public static int ReadEvents(nint analytics, double waitSeconds, byte* buffer, long capacity, long* length) => NativeCall.Run(() =>
    {
        var run = HandleTable.Get<AnalyticsRun>(analytics, A);
        var o = NativeCall.Out(length, "length (out)");
        *o = 0;
        if (capacity < 0) throw new DeisaException(DeisaStatus.Value, $"capacity must not be negative (got {capacity})");
        if (buffer == null && capacity > 0) throw new DeisaException(DeisaStatus.InvalidHandle, "buffer is NULL");
        nint start = (nint)buffer;
        int room = (int)Math.Min(capacity, int.MaxValue), used = 0, needed = 0;
        int n = run.NextEvents(EventWait(waitSeconds), e =>
        {
            if (!EventRecords.TryWrite(new Span<byte>((byte*)start + used, room - used), e, out int size))
            {
                needed = size;
                return false;
            }
            used += size;
            return true;
        });
        *o = used;
        if (n > 0) return DeisaStatus.Ok;
        if (needed == 0) return DeisaStatus.Pending;
        *o = needed;
        throw new DeisaException(DeisaStatus.Value, $"buffer of {capacity} bytes is too small for the next event ({needed} bytes): call again with a larger one");
    });

    /// <summary>The wait of next_event(s): 0 (a poll) to 3600 seconds; NaN is an error.</summary>
    private static TimeSpan EventWait(double waitSeconds) =>
        double.IsNaN(waitSeconds) ? throw new DeisaException(DeisaStatus.Value, "wait_s must be a number of seconds (got NaN)")
        : TimeSpan.FromSeconds(Math.Clamp(waitSeconds, 0, 3600));

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_finish_timestep")]
    public static int FinishTimestep(nint analytics, long timestep) =>
        NativeCall.Run(() => HandleTable.Get<AnalyticsRun>(analytics, A).FinishTimestep(timestep));

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_release_block")]
    public static int ReleaseBlock(nint analytics, long lease) =>
        NativeCall.Run(() => HandleTable.Get<AnalyticsRun>(analytics, A).ReleaseBlock(lease));

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_set_feedback")]
    public static int SetFeedback(nint analytics, byte* key, long timestep, int kind, void* data, long nbytes) => NativeCall.Run(() =>
    {
        var run = HandleTable.Get<AnalyticsRun>(analytics, A);
        if (nbytes < 0) throw new DeisaException(DeisaStatus.Value, $"nbytes must not be negative (got {nbytes})");
        if (nbytes > FeedbackValue.MaxBytes) throw new DeisaException(DeisaStatus.Value, $"feedback value of {nbytes} bytes is larger than the 1 MiB limit");
        if (data == null && nbytes > 0) throw new DeisaException(DeisaStatus.InvalidHandle, "data is NULL");
        var bytes = new ReadOnlySpan<byte>(data, (int)nbytes).ToArray();
        NativeCall.Wait(run.SetFeedbackAsync(NativeCall.Utf8(key, "key"), timestep, new FeedbackValue((FeedbackKind)kind, bytes)));
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_free")]
    public static int Free(nint analytics) => NativeCall.Run(() =>
    {
        if (analytics == 0) return;
        NativeCall.Wait(HandleTable.Remove<AnalyticsRun>(analytics, A).DisposeAsync().AsTask());
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_status")]
    public static int Status(byte* rendezvous, byte** json) => NativeCall.Run(() =>
    {
        var o = NativeCall.Out(json, "json (out)");
        *o = null;
        var r = new Rendezvous(NativeCall.OptionalUtf8(rendezvous, "rendezvous"));
        var info = r.TryReadLive() ?? throw new DeisaException(DeisaStatus.State, $"no live analytics in {r.FilePath}");
        using var client = new ControlClient(info.Address, info.Token);
        var reply = client.Call((c, h) => c.Status(new Protocol.Messages.Empty(), h, deadline: DateTime.UtcNow.AddSeconds(10)));
        *o = NativeCall.AllocUtf8(reply.Json);
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_cleanup")]
    public static int Cleanup(byte* rendezvous, byte** json) => NativeCall.Run(() =>
    {
        var o = NativeCall.Out(json, "json (out)");
        *o = null;
        var r = new Rendezvous(NativeCall.OptionalUtf8(rendezvous, "rendezvous"));
        var removed = new List<string>();
        if (r.TryRead() is { } info && !Libc.ProcessExists(info.Pid)) removed.AddRange(r.RemoveLeftovers(info));
        removed.AddRange(DeadSessionSegments.Remove());
        *o = Json(w => { w.WriteStartArray(); foreach (var s in removed) w.WriteStringValue(s); w.WriteEndArray(); });
    });

    internal static byte* Json(Action<Utf8JsonWriter> write)
    {
        // The writers here make well-formed JSON by construction: no validation on every write.
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true })) write(w);
        var json = buffer.WrittenSpan;
        var p = (byte*)NativeMemory.Alloc((nuint)json.Length + 1);
        json.CopyTo(new Span<byte>(p, json.Length));
        p[json.Length] = 0;
        return p;
    }

    /// <summary>A JSON array of numbers, as a property (<paramref name="name"/>) or an array element (null).</summary>
    internal static void WriteLongs(Utf8JsonWriter w, string? name, ReadOnlySpan<long> xs)
    {
        if (name is null) w.WriteStartArray(); else w.WriteStartArray(name);
        WriteValuesAndEnd(w, xs);
    }

    /// <inheritdoc cref="WriteLongs(Utf8JsonWriter, string?, ReadOnlySpan{long})"/>
    internal static void WriteLongs(Utf8JsonWriter w, JsonEncodedText name, ReadOnlySpan<long> xs)
    {
        w.WriteStartArray(name);
        WriteValuesAndEnd(w, xs);
    }

    private static void WriteValuesAndEnd(Utf8JsonWriter w, ReadOnlySpan<long> xs)
    {
        foreach (var x in xs) w.WriteNumberValue(x);
        w.WriteEndArray();
    }
}
