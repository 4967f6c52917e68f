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
/// callbacks, read the head's events as packed records, release blocks, set feedback; and the
/// checks of the analytics' settings and callbacks that bindings make before a run starts.
/// </summary>
internal static unsafe class AnalyticsExports
{
    private const string A = "analytics";

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_start")]
    public static int Start(byte* address, byte* rendezvous, int maxSimulationAhead, int feedbackQueueSize, long poolBytes, double timeoutSeconds, nint* analytics) =>
        NativeCall.Run(() => StartRun(Options(address, rendezvous, maxSimulationAhead, feedbackQueueSize, poolBytes, timeoutSeconds), analytics));

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_start_cluster")]
    public static int StartCluster(byte* address, byte* rendezvous, int maxSimulationAhead, int feedbackQueueSize, long poolBytes, double timeoutSeconds, nint* analytics) =>
        NativeCall.Run(() => StartRun(Options(address, rendezvous, maxSimulationAhead, feedbackQueueSize, poolBytes, timeoutSeconds) with { Cluster = true }, analytics));

    private static void StartRun(AnalyticsOptions options, nint* analytics)
    {
        var outp = NativeCall.Out(analytics, "analytics (out)");
        *outp = 0;
        *outp = HandleTable.Add(NativeCall.Wait(AnalyticsRun.StartAsync(options)));
    }

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_nodes")]
    public static int Nodes(nint analytics, byte** json) => NativeCall.Run(() =>
    {
        var run = HandleTable.Get<AnalyticsRun>(analytics, A);
        var o = NativeCall.Out(json, "json (out)");
        *o = null;
        var nodes = NativeCall.Wait(run.Head.StatusAsync()).Nodes ?? [];
        *o = NativeJson.Allocate(nodes.Select(n => new NodeInfo(n.Node, n.Host, n.Worker, n.Ranks.ToArray(), n.Lost)).ToList(), NativeJson.Default.ListNodeInfo);
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_check")]
    public static int Check(byte* address, byte* rendezvous, int maxSimulationAhead, int feedbackQueueSize, long poolBytes, double timeoutSeconds) =>
        NativeCall.Run(() => AnalyticsRun.Check(Options(address, rendezvous, maxSimulationAhead, feedbackQueueSize, poolBytes, timeoutSeconds)));

    /// <summary>The settings of deisa_analytics_start and _check (pool_bytes 0: the default).</summary>
    private static AnalyticsOptions Options(byte* address, byte* rendezvous, int maxSimulationAhead, int feedbackQueueSize, long poolBytes, double timeoutSeconds) =>
        new()
        {
            Address = NativeCall.OptionalUtf8(address, "address"),
            RendezvousDirectory = NativeCall.OptionalUtf8(rendezvous, "rendezvous"),
            MaxSimulationAhead = maxSimulationAhead,
            FeedbackQueueSize = feedbackQueueSize,
            PoolBytes = poolBytes == 0 ? null : poolBytes,
            Timeout = NativeCall.Seconds(timeoutSeconds, "timeout"),
        };

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_info")]
    public static int Info(nint analytics, byte** json) => NativeCall.Run(() =>
    {
        var run = HandleTable.Get<AnalyticsRun>(analytics, A);
        var o = NativeCall.Out(json, "json (out)");
        *o = null;
        *o = NativeJson.Allocate(new RunInfo(run.Info.Session, run.Info.Address, run.RendezvousDirectory, run.Node.PoolBudget, run.Info.Token), NativeJson.Default.RunInfo);
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_callback_check")]
    public static int CallbackCheck(byte* name, int nInputs, byte** arrays, int* windowSizes, int when) =>
        NativeCall.Run(() => CallbackSpec.Check(NativeCall.Utf8(name, "name"), Inputs(nInputs, arrays, windowSizes), (FiringRule)when));

    [UnmanagedCallersOnly(EntryPoint = "deisa_window_check")]
    public static int WindowCheck(byte* array, int size) =>
        NativeCall.Run(() => new WindowSpec(NativeCall.Utf8(array, "array"), size).Validate());

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_add_callback")]
    public static int AddCallback(nint analytics, byte* name, int nInputs, byte** arrays, int* windowSizes, int when, int* id) =>
        NativeCall.Run(() =>
        {
            var run = HandleTable.Get<AnalyticsRun>(analytics, A);
            var o = NativeCall.Out(id, "id (out)");
            *o = NativeCall.Wait(run.AddCallbackAsync(NativeCall.Utf8(name, "name"), Inputs(nInputs, arrays, windowSizes), (FiringRule)when));
        });

    /// <summary>A callback's inputs as C gives them (the rules on them are <see cref="CallbackSpec.Check"/>'s).</summary>
    private static WindowSpec[] Inputs(int nInputs, byte** arrays, int* windowSizes)
    {
        if (nInputs < 0) throw new DeisaException(DeisaStatus.Value, $"n_inputs must not be negative (got {nInputs})");
        if (nInputs > 0 && arrays == null) throw new DeisaException(DeisaStatus.InvalidHandle, "arrays is NULL");
        if (nInputs > 0 && windowSizes == null) throw new DeisaException(DeisaStatus.InvalidHandle, "window_sizes is NULL");
        var inputs = new WindowSpec[nInputs];
        for (int i = 0; i < nInputs; i++) inputs[i] = new WindowSpec(NativeCall.Utf8(arrays[i], $"arrays[{i}]"), windowSizes[i]);
        return inputs;
    }

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_wait_for_simulation")]
    public static int WaitForSimulation(nint analytics, byte** json) => NativeCall.Run(() =>
    {
        var run = HandleTable.Get<AnalyticsRun>(analytics, A);
        var o = NativeCall.Out(json, "json (out)");
        *o = null;
        var layouts = NativeCall.Wait(run.WaitForSimulationAsync());
        var described = new SortedDictionary<string, LayoutInfo>(StringComparer.Ordinal);
        foreach (var l in layouts.Values) described[l.Name] = new LayoutInfo(l.GlobalShape, l.Chunks, DTypes.NumpyName(l.DType));
        *o = NativeJson.Allocate(described, NativeJson.Default.SortedDictionaryStringLayoutInfo);
    });

    /// <summary>
    /// The next events as packed records written into the caller's buffer (deisa.h gives their
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
            if (!EventRecords.TryWrite(new Span<byte>((byte*)start + used, room - used), e, run.AddressOf, out int size))
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

    /// <summary>The wait of read_events: 0 (a poll) to <see cref="AbiConstants.MaxWaitSeconds"/>; NaN is an error.</summary>
    private static TimeSpan EventWait(double waitSeconds) =>
        double.IsNaN(waitSeconds) ? throw new DeisaException(DeisaStatus.Value, "wait_s must be a number of seconds (got NaN)")
        : TimeSpan.FromSeconds(Math.Clamp(waitSeconds, 0, AbiConstants.MaxWaitSeconds));

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_interrupt")]
    public static int Interrupt(nint analytics) =>
        NativeCall.Run(() => HandleTable.Get<AnalyticsRun>(analytics, A).Interrupt());

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
        if (nbytes > AbiConstants.MaxFeedbackBytes) throw FeedbackValue.TooLarge(nbytes);
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
        var info = r.TryReadLive() ?? throw NoLiveRun(r);
        using var client = new ControlClient(info.Address, info.Token);
        var reply = client.Call((c, o) => c.Status(new Protocol.Messages.Empty(), o.WithDeadline(DateTime.UtcNow.AddSeconds(10))));
        *o = NativeCall.AllocUtf8(reply.Json);
    });

    /// <summary>No live analytics in <paramref name="r"/>, and what dead runs left (what deisa_cleanup would remove).</summary>
    private static DeisaException NoLiveRun(Rendezvous r)
    {
        var left = Leftovers.RemoveDead(r, remove: false);
        const int Shown = 10;
        var what = left.Count == 0 ? "" : $"; dead runs left {left.Count} file(s), which deisa_cleanup (deisa cleanup) removes: "
            + string.Join(", ", left.Take(Shown)) + (left.Count > Shown ? $", and {left.Count - Shown} more" : "");
        return new DeisaException(DeisaStatus.State, $"no live analytics in {r.FilePath}{what}");
    }

    [UnmanagedCallersOnly(EntryPoint = "deisa_cleanup")]
    public static int Cleanup(byte* rendezvous, byte** json) => NativeCall.Run(() =>
    {
        var o = NativeCall.Out(json, "json (out)");
        *o = null;
        var removed = Leftovers.RemoveDead(new Rendezvous(NativeCall.OptionalUtf8(rendezvous, "rendezvous")));
        *o = NativeJson.Allocate(removed.ToList(), NativeJson.Default.ListString);
    });
}
