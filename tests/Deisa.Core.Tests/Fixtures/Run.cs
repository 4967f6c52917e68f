using Deisa.Engine.Head;
using Deisa.Engine.Node;
using Deisa.Model;
using Deisa.SharedMemory;
namespace Deisa.Core.Tests.Fixtures;

/// <summary>
/// One in-process run of the engine: a head actor and a node actor on real POSIX shared
/// memory, driven by a fake simulation (ranks that register, send blocks and close) and a fake
/// analytics (reads the head's events, holds the leases of delivered arrays and releases them
/// when the head drops them). Every wait has a timeout, so a broken rule fails a test instead
/// of hanging it. Disposing the run shuts both actors down and checks that no shared-memory
/// file of the run is left in /dev/shm.
/// </summary>
/// <remarks>
/// Blocks of int32 arrays are filled with <see cref="ValueOf"/>(rank, t); every delivered
/// array is checked against it, and every window of a <see cref="CallbackDue"/> must name
/// arrays the analytics holds at that moment.
/// </remarks>
internal sealed class Run : IAsyncDisposable
{
    /// <summary>Upper bound of every wait in the tests.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly Dictionary<(int Rank, string Array), BlockDeclaration> _declarations = new();
    private readonly Dictionary<(string Array, long T), ArrayReady> _held = new();
    private readonly Dictionary<(string Array, long T), int[][]> _contents = new();
    private int _callbackCount;

    private Run(HeadOptions options)
    {
        Prefix = Shm.NewPrefix();
        Head = new HeadActor(options);
        Node = new NodeActor(Prefix, options.PoolBytes, Head);
        Head.Node = Node;
    }

    /// <summary>Starts a run; <paramref name="poolBytes"/> is both the head's check and the node's pool.</summary>
    public static Run Start(int maxSimulationAhead = 1, int feedbackQueueSize = 1024, long poolBytes = 16 << 20, IAdmissionTickets? tickets = null) =>
        new(new HeadOptions { MaxSimulationAhead = maxSimulationAhead, FeedbackQueueSize = feedbackQueueSize, PoolBytes = poolBytes, Tickets = tickets });

    public HeadActor Head { get; }
    public NodeActor Node { get; }
    public string Prefix { get; }

    /// <summary>Every event read so far, in order.</summary>
    public List<AnalyticsEvent> Log { get; } = new();

    /// <summary>Arrays delivered (ArrayReady) and not yet dropped: the analytics holds their leases.</summary>
    public IReadOnlyDictionary<(string Array, long T), ArrayReady> Held => _held;

    /// <summary>The int32 contents of every delivered array, per block (ordered by rank), copied when it was delivered.</summary>
    public IReadOnlyDictionary<(string Array, long T), int[][]> Contents => _contents;

    // ------------------------------------------------------------ analytics: callbacks

    public Task<int> AndAsync(params string[] arrays) => CallbackAsync(FiringRule.And, arrays.Select(a => new WindowSpec(a)).ToArray());

    public Task<int> OrAsync(params string[] arrays) => CallbackAsync(FiringRule.Or, arrays.Select(a => new WindowSpec(a)).ToArray());

    public Task<int> CallbackAsync(FiringRule when, params WindowSpec[] inputs) =>
        Head.AddCallbackAsync($"cb{_callbackCount++}", inputs, when).WaitAsync(Timeout);

    // ------------------------------------------------------------ simulation: registration

    /// <summary>Rank <paramref name="rank"/>'s block of a 1-D array with one element per rank.</summary>
    public static BlockDeclaration Strip(int rank, int world, string array, DType dtype = DType.Undeclared) =>
        new(rank, array, [world], [1], [rank], dtype);

    /// <summary>Starts the registration of <paramref name="ranks"/> (default: all) concurrently; the tasks are not awaited.</summary>
    public Task<IReadOnlyDictionary<string, ArrayLayout>>[] StartRegistration(
        int world, Func<int, IReadOnlyList<BlockDeclaration>> declare, TimeSpan? timeout = null, IEnumerable<int>? ranks = null)
    {
        var tasks = new List<Task<IReadOnlyDictionary<string, ArrayLayout>>>();
        foreach (var r in ranks ?? Enumerable.Range(0, world))
        {
            var decls = declare(r);
            foreach (var d in decls) _declarations[(r, d.Array)] = d;
            tasks.Add(Head.RegisterAsync(r, world, decls, timeout ?? Timeout));
        }
        return tasks.ToArray();
    }

    /// <summary>Registers every rank (collective: all calls run concurrently) and waits for all of them.</summary>
    public async Task RegisterAsync(int world, Func<int, IReadOnlyList<BlockDeclaration>> declare) =>
        await Task.WhenAll(StartRegistration(world, declare)).WaitAsync(Timeout);

    /// <summary>Registers <paramref name="world"/> ranks, each owning one element of every array in <paramref name="arrays"/>.</summary>
    public Task RegisterStripsAsync(int world, params string[] arrays) =>
        RegisterAsync(world, r => arrays.Select(a => Strip(r, world, a)).ToList());

    // ------------------------------------------------------------ simulation: sends

    /// <summary>What rank <paramref name="rank"/> writes in every element of its int32 blocks at <paramref name="t"/>.</summary>
    public static int ValueOf(int rank, long t) => checked((int)(t * 100 + rank));

    /// <summary>The head's admission of a send (docs/specification.md §3 back-pressure); not awaited here.</summary>
    public Task AdmitAsync(int rank, string array, long t, DType dtype = DType.Int32, TimeSpan? timeout = null, bool ticketed = false) =>
        Head.AdmitAsync(Send(rank, array, t, dtype) with { Ticketed = ticketed }, timeout ?? Timeout);

    /// <summary>A well-formed send of a rank's block (of the declared shape, if the rank declared the array).</summary>
    private BlockSend Send(int rank, string array, long t, DType dtype)
    {
        var decl = _declarations.GetValueOrDefault((rank, array));
        long[] shape = decl?.ChunkShape ?? [1];
        long nbytes = DTypes.IsDefined(dtype) ? Shape.Count(shape) * DTypes.ItemSize(dtype) : 0;
        return new BlockSend(rank, array, t, dtype, shape, decl?.Order ?? MemoryOrder.C, nbytes);
    }

    /// <summary>Rents a slot for the block, fills it and commits it (the part of a send after admission).</summary>
    public async Task<Slot> WriteAsync(int rank, string array, long t, DType dtype = DType.Int32)
    {
        var decl = _declarations[(rank, array)];
        long nbytes = Shape.Count(decl.ChunkShape) * DTypes.ItemSize(dtype);
        var rented = await Node.RentAsync(new BlockSend(rank, array, t, dtype, decl.ChunkShape, decl.Order, nbytes), 0, CancellationToken.None)
            .WaitAsync(Timeout);
        var bytes = rented.Slot.Segment.Slice(rented.Slot.Offset, nbytes);
        if (dtype == DType.Int32) MemoryMarshal.Cast<byte, int>(bytes).Fill(ValueOf(rank, t));
        else bytes.Fill(0x5a);
        await Node.CommitAsync(rented.Slot.Id, rank).WaitAsync(Timeout);
        return rented.Slot;
    }

    /// <summary>A whole send: admission, then rent, write and commit.</summary>
    public async Task SendAsync(int rank, string array, long t, DType dtype = DType.Int32)
    {
        await AdmitAsync(rank, array, t, dtype).WaitAsync(Timeout);
        await WriteAsync(rank, array, t, dtype);
    }

    /// <summary>
    /// Every rank of <paramref name="world"/> sends its block of <paramref name="array"/> at
    /// <paramref name="t"/>, concurrently as MPI ranks do (a rank's send may wait for
    /// back-pressure until the other ranks' sends close the previous timestep).
    /// </summary>
    public Task SendAllAsync(int world, string array, long t) =>
        Task.WhenAll(Enumerable.Range(0, world).Select(r => SendAsync(r, array, t)));

    public Task CloseAsync(int rank, long? t = null) => Head.CloseAsync(rank, t).WaitAsync(Timeout);

    public async Task CloseAllAsync(int world)
    {
        for (int r = 0; r < world; r++) await CloseAsync(r);
    }

    // ------------------------------------------------------------ analytics: events

    /// <summary>The next event, with the analytics' bookkeeping of leases and the run's invariants checked.</summary>
    public async Task<AnalyticsEvent> NextAsync()
    {
        AnalyticsEvent e;
        try { e = await Head.Events.ReadAsync().WaitAsync(Timeout); }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"no event from the head within {Timeout.TotalSeconds} s; events so far: {Describe(Log)}");
        }
        Log.Add(e);
        switch (e)
        {
            case ArrayReady a:
                Assert.False(_held.ContainsKey((a.Name, a.Timestep)), $"'{a.Name}' at t={a.Timestep} delivered twice");
                if (a.DType == DType.Int32)
                    foreach (var b in a.Blocks)
                        Assert.All(Ints(b), v => Assert.Equal(ValueOf(b.Rank, a.Timestep), v));
                _held[(a.Name, a.Timestep)] = a;
                if (a.DType == DType.Int32) _contents[(a.Name, a.Timestep)] = a.Blocks.Select(Ints).ToArray();
                break;
            case CallbackDue c:
                foreach (var (name, window) in c.Windows)
                {
                    Assert.True(window.Length > 0, $"empty window of '{name}' at t={c.Timestep}");
                    Assert.Equal(window.Order(), window);
                    Assert.True(window[^1] <= c.Timestep, $"window of '{name}' at t={c.Timestep} holds a later timestep {window[^1]}");
                    foreach (var t in window)
                        Assert.True(_held.ContainsKey((name, t)), $"window of '{name}' at t={c.Timestep} names t={t}, which the analytics does not hold");
                }
                break;
            case ArrayDropped d:
                Assert.True(_held.Remove((d.Name, d.Timestep), out var dropped), $"'{d.Name}' at t={d.Timestep} dropped but not held");
                foreach (var b in dropped!.Blocks) Node.Release(b.Lease);
                break;
        }
        return e;
    }

    /// <summary>The next event, which must be a <typeparamref name="T"/>.</summary>
    public async Task<T> ExpectAsync<T>() where T : AnalyticsEvent
    {
        var e = await NextAsync();
        return e as T ?? throw new Xunit.Sdk.XunitException($"expected {typeof(T).Name}, got {e}; events so far: {Describe(Log)}");
    }

    /// <summary>
    /// Reads events up to and including the first <typeparamref name="T"/>; with
    /// <paramref name="finish"/>, reports every <see cref="TimestepDone"/> read as finished.
    /// </summary>
    public async Task<List<AnalyticsEvent>> ReadUntilAsync<T>(bool finish = true) where T : AnalyticsEvent
    {
        var read = new List<AnalyticsEvent>();
        while (true)
        {
            var e = await NextAsync();
            read.Add(e);
            if (finish && e is TimestepDone done) Head.FinishTimestep(done.Timestep);
            if (e is T) return read;
            if (e is RunFailed or RunEnded && typeof(T) != typeof(AnalyticsEvent))
                throw new Xunit.Sdk.XunitException($"run ended while waiting for {typeof(T).Name}: {Describe(read)}");
        }
    }

    /// <summary>Reads (finishing timesteps) until the run ends or fails; returns what was read.</summary>
    public async Task<List<AnalyticsEvent>> ReadToEndAsync()
    {
        var read = new List<AnalyticsEvent>();
        while (true)
        {
            var e = await NextAsync();
            read.Add(e);
            if (e is TimestepDone done) Head.FinishTimestep(done.Timestep);
            if (e is RunFailed or RunEnded) return read;
        }
    }

    /// <summary>Reads, with bookkeeping, every event the head has emitted so far (without finishing timesteps).</summary>
    public async Task<List<AnalyticsEvent>> DrainAsync()
    {
        await QuiesceAsync();
        var read = new List<AnalyticsEvent>();
        while (Head.Events.TryPeek(out _)) read.Add(await NextAsync());
        return read;
    }

    /// <summary>
    /// Waits until both actors handled every message sent so far (the head's reaction to a
    /// commit, and the node's reaction to the head's releases), so that the absence of an event
    /// or the pool's state can be asserted without sleeping.
    /// </summary>
    public async Task QuiesceAsync()
    {
        await Node.UsageAsync().WaitAsync(Timeout);
        await Head.StatusAsync().WaitAsync(Timeout);
        await Node.UsageAsync().WaitAsync(Timeout);
    }

    /// <summary>Asserts that the head has emitted nothing more.</summary>
    public async Task AssertQuietAsync()
    {
        await QuiesceAsync();
        Assert.False(Head.Events.TryRead(out var e), $"unexpected event {e}");
    }

    public async Task<PoolUsage> UsageAsync()
    {
        await QuiesceAsync();
        return await Node.UsageAsync().WaitAsync(Timeout);
    }

    public Task<RunStatus> StatusAsync() => Head.StatusAsync().WaitAsync(Timeout);

    /// <summary>The analytics lets go of every array it holds (its views died).</summary>
    public void ReleaseHeld()
    {
        foreach (var a in _held.Values)
            foreach (var b in a.Blocks) Node.Release(b.Lease);
        _held.Clear();
    }

    /// <summary>The int32 elements of a delivered block.</summary>
    public unsafe int[] Ints(BlockView b) =>
        new ReadOnlySpan<int>((void*)(Node.AddressOf(b.Location.Segment)!.Value + (nint)b.Location.Offset), checked((int)(b.NBytes / 4))).ToArray();

    public static string Describe(IEnumerable<AnalyticsEvent> events) => "[" + string.Join(", ", events.Select(Describe)) + "]";

    public static string Describe(AnalyticsEvent e) => e switch
    {
        ArrayReady a => $"Ready({a.Name}@{a.Timestep})",
        CallbackDue c => $"Due(cb{c.CallbackId}@{c.Timestep}: {string.Join(" ", c.Windows.Select(w => $"{w.Key}=[{string.Join(",", w.Value)}]"))})",
        ArrayDropped d => $"Dropped({d.Name}@{d.Timestep})",
        TimestepDone d => $"Done({d.Timestep})",
        RunFailed f => $"Failed({f.Status}: {f.Message})",
        RunEnded => "Ended",
        _ => e.ToString(),
    };

    // ------------------------------------------------------------ teardown

    public async ValueTask DisposeAsync()
    {
        try { await Head.StopAsync("test finished").WaitAsync(Timeout); }
        catch (ObjectDisposedException) { }
        await Head.DisposeAsync();
        await Node.ShutdownAsync().WaitAsync(Timeout);
        await Node.DisposeAsync();
        Shm.AssertNone(Prefix);
    }
}

/// <summary>Shortcuts over lists of events.</summary>
internal static class Events
{
    public static List<CallbackDue> Due(this IEnumerable<AnalyticsEvent> events) => events.OfType<CallbackDue>().ToList();

    public static List<CallbackDue> Due(this IEnumerable<AnalyticsEvent> events, int callback) =>
        events.OfType<CallbackDue>().Where(c => c.CallbackId == callback).ToList();

    public static int IndexOf(this IReadOnlyList<AnalyticsEvent> events, Func<AnalyticsEvent, bool> match)
    {
        for (int i = 0; i < events.Count; i++) if (match(events[i])) return i;
        return -1;
    }
}
