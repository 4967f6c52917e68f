using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Deisa.Dashboard;
using Deisa.Engine.Head;
using Deisa.Engine.Messages;
using Deisa.Engine.Node;
using Deisa.Model;
using Deisa.Platform;
using Deisa.Protocol;
using Deisa.Server;
using Deisa.SharedMemory;

namespace Deisa.Hosting;

/// <summary>
/// The analytics side of one run: hosts the head actor and this node's node actor, listens
/// for bridges, publishes the rendezvous record, and hands out the head's events. Disposing it
/// ends the run and removes its socket, record and shared memory.
/// </summary>
public sealed class AnalyticsRun : IAsyncDisposable
{
    private readonly ControlServer _server;
    private readonly Rendezvous _rendezvous;
    private readonly AnalyticsOptions _options;
    private readonly YoungGenerationCap _young = new(2 << 20);
    private readonly CancellationTokenSource _interrupt = new();
    private int _disposed;
    private Timer? _watch;
    private BlockChannelServer? _blockChannel;
    private EventWaiter? _waiter; // how a blocked reader waits (null where there is no eventfd)
    private RendezvousClaim? _claim; // the directory's lock, let go last
    private AdmissionBoard? _board; // back-pressure in shared memory for the ranks of this node (none on a cluster)
    private DashboardSnapshot? _final; // the run as it ended, for a dashboard that outlives it
    private readonly List<Flight.LiveBlocksEndpoint> _flights = []; // stopped with the run (they read its shared memory)
    private RunTables? _tables; // the dashboard's tables of this run (its own dashboard's, and other processes' through the control server)

    private AnalyticsRun(AnalyticsOptions options, HeadActor head, NodeActor node, ControlServer server, Rendezvous rendezvous, RendezvousInfo info)
    {
        _options = options;
        Head = head;
        Node = node;
        _server = server;
        _rendezvous = rendezvous;
        Info = info;
    }

    /// <summary>The head actor of the run.</summary>
    public HeadActor Head { get; }

    /// <summary>This node's node actor.</summary>
    public NodeActor Node { get; }

    /// <summary>Session id, token and address as published.</summary>
    public RendezvousInfo Info { get; }

    /// <summary>What the run did, for the dashboard: timesteps processed, callbacks, feedback, errors, pictures.</summary>
    public RunActivity Activity { get; } = new();

    /// <summary>The rendezvous directory used.</summary>
    public string RendezvousDirectory => _rendezvous.Directory;

    /// <summary>Checks the options as <see cref="StartAsync"/> does, with nothing started:
    /// their values (<see cref="AnalyticsOptions.Validate"/>) and the listening address.</summary>
    public static void Check(AnalyticsOptions options)
    {
        options.Validate();
        if (options.Address is { } a) Address.Parse(a, allowRemote: true);
    }

    /// <summary>Starts the actors and the server, and publishes the rendezvous record.</summary>
    public static async Task<AnalyticsRun> StartAsync(AnalyticsOptions options)
    {
        Check(options);
        long pool = PoolSize.Resolve(options.PoolBytes);
        var rendezvous = new Rendezvous(options.RendezvousDirectory);
        // The directory is this run's before anything else: of two analytics started at once, one wins.
        var claim = RendezvousClaim.Take(rendezvous);
        try
        {
            var run = await StartClaimedAsync(options, rendezvous, pool).ConfigureAwait(false);
            run._claim = claim;
            return run;
        }
        catch
        {
            claim.Dispose();
            throw;
        }
    }

    private static async Task<AnalyticsRun> StartClaimedAsync(AnalyticsOptions options, Rendezvous rendezvous, long pool)
    {
        Leftovers.ClaimForNewRun(rendezvous);
        Directory.CreateDirectory(rendezvous.Directory);
        var session = Rendezvous.NewSession();
        var token = Rendezvous.NewToken();
        var address = options.Address is { } a ? Address.Parse(a, allowRemote: true) : new Address(rendezvous.SocketPath(session), null, 0);
        var journal = FeedbackJournal.Open(rendezvous, session);
        // On a cluster the ranks send to node services of other processes, which ask the head.
        var board = options.Cluster ? null : AdmissionBoard.Create($"{RendezvousInfo.SegmentPrefixOf(session)}-admission", options.MaxSimulationAhead);
        var head = new HeadActor(new HeadOptions
        {
            MaxSimulationAhead = options.MaxSimulationAhead,
            FeedbackQueueSize = options.FeedbackQueueSize,
            PoolBytes = pool,
            Cluster = options.Cluster,
            Journal = journal,
            Tickets = board is null ? null : new BoardTickets(board),
        });
        var node = new NodeActor(RendezvousInfo.SegmentPrefixOf(session), pool, head);
        head.Node = node;
        // The blocks of every send come on the node's block channel, a Unix socket whatever
        // the control address: blocks are in this node's shared memory.
        var blockChannel = BlockChannelServer.Start(rendezvous.BlockChannelPath(session), token, new BlockOperations(head, node));
        ControlServer server;
        AnalyticsRun? started = null;
        var tables = new RunTables(token, ct => started?.SnapshotAsync(ct) ?? throw new DeisaException(DeisaStatus.State, "the run is starting"));
        // On a cluster the ranks send to their own node's node service instead.
        var ranksChannel = new RanksChannel(options.Cluster ? Rendezvous.NodeChannelName(session) : blockChannel.Path, board?.Name);
        try
        {
            server = await ControlServer.StartAsync(address, token, head, node, ranksChannel,
                services => services.AddSingleton<IDashboardSource>(tables), app => app.MapGrpcService<DashboardService>()).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await blockChannel.DisposeAsync().ConfigureAwait(false);
            board?.Dispose();
            if (e is DeisaException) throw;
            throw new DeisaException(DeisaStatus.Value, $"cannot listen on {address}: {e.Message}", e);
        }
        var info = new RendezvousInfo(session, token, server.BoundAddress, Environment.ProcessId)
        {
            Host = Environment.MachineName,
            PidStart = Libc.ProcessStartTime(Environment.ProcessId) ?? 0,
            Cluster = options.Cluster,
        };
        YoungGenerationCap.Settle();
        rendezvous.Publish(info);
        var run = started = new AnalyticsRun(options, head, node, server, rendezvous, info)
        {
            _tables = tables,
            _blockChannel = blockChannel,
            _waiter = EventWaiter.TryCreate(head, blockChannel),
            _board = board,
        };
        run._watch = new Timer(_ => head.CheckLocalRanks(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        return run;
    }

    /// <summary>Registers a callback's inputs; returns its id (used in <see cref="CallbackDue"/>).</summary>
    public Task<int> AddCallbackAsync(string name, IReadOnlyList<WindowSpec> inputs, FiringRule when) =>
        Head.AddCallbackAsync(name, inputs, when);

    /// <summary>Waits for every rank to register (docs/specification.md §3), then checks the callbacks' arrays.</summary>
    public async Task<IReadOnlyDictionary<string, ArrayLayout>> WaitForSimulationAsync(CancellationToken ct = default)
    {
        ThrowIfInterrupted();
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct, _interrupt.Token);
        try { return await Head.WaitForSimulationAsync(_options.Timeout, wait.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) when (_interrupt.IsCancellationRequested) { throw InterruptedError(); }
    }

    /// <summary>
    /// Ends the wait for the simulation in progress (from any thread: a signal's handling, Ctrl-C)
    /// with <see cref="DeisaStatus.Interrupted"/>, as every later wait of this run; an event read
    /// in progress ends at its own wait's end. The run stays up until disposed, which tells the
    /// ranks and removes what the run owns.
    /// </summary>
    public void Interrupt()
    {
        try { _interrupt.Cancel(); }
        catch (ObjectDisposedException) { }
    }

    private void ThrowIfInterrupted()
    {
        if (_interrupt.IsCancellationRequested) throw InterruptedError();
    }

    private static DeisaException InterruptedError() =>
        new(DeisaStatus.Interrupted, "the analytics was interrupted while waiting");

    /// <summary>The next event, or null if none came within <paramref name="wait"/>.</summary>
    public Task<AnalyticsEvent?> NextEventAsync(TimeSpan wait, CancellationToken ct = default) =>
        Head.Events.ReadAsync(Waits.Clamp(wait), ct);

    /// <summary>As <see cref="NextEventAsync"/>, blocking the calling thread (the native doors):
    /// the head wakes it directly when it emits.</summary>
    public AnalyticsEvent? NextEvent(TimeSpan wait, CancellationToken ct = default) =>
        Head.Events.Read(Waits.Clamp(wait), ct);

    /// <summary>As <see cref="NextEvent"/>, then the events already queued behind the first
    /// (one call for an array's event and its callbacks'); the number added to <paramref name="into"/>.</summary>
    public int NextEvents(TimeSpan wait, List<AnalyticsEvent> into, CancellationToken ct = default) =>
        NextEvents(wait, e => { into.Add(e); return true; }, ct);

    /// <summary>As <see cref="NextEvents(TimeSpan, List{AnalyticsEvent}, CancellationToken)"/>, handing each
    /// event to <paramref name="take"/>, which may refuse one (it stays queued and ends the batch).</summary>
    public int NextEvents(TimeSpan wait, Func<AnalyticsEvent, bool> take, CancellationToken ct = default)
    {
        ThrowIfInterrupted();
        wait = Waits.Clamp(wait);
        if (_waiter is { } waiter && wait > TimeSpan.Zero && !Head.Events.HasEvent && !ct.CanBeCanceled)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            waiter.Wait(wait);
            var waited = System.Diagnostics.Stopwatch.GetElapsedTime(start);
            wait = waited < wait ? wait - waited : TimeSpan.Zero;
        }
        int n = Head.Events.ReadAvailable(wait, take, ct);
        if (n == 0) ThrowIfInterrupted();
        return n;
    }

    /// <summary>The callbacks announced for <paramref name="t"/> have run.</summary>
    public void FinishTimestep(long t)
    {
        Head.FinishTimestep(t);
        Activity.TimestepProcessed(t);
        _young.Check(); // between timesteps: the collection delays no callback
    }

    /// <summary>Where a block of this node lies in this process; 0 for a block of another node
    /// (a cluster's), which is read on its node.</summary>
    /// <exception cref="DeisaException">The node has no such segment (<see cref="DeisaStatus.Internal"/>).</exception>
    public nint AddressOf(BlockLocation block) =>
        Leases.NodeOf(block.Lease) != 0 ? 0
        : Node.AddressOf(block.Segment) is { } segment ? segment + (nint)block.Offset
        : throw new DeisaException(DeisaStatus.Internal, $"block of lease {block.Lease} is in segment {block.Segment}, which this node's pool does not have");

    /// <summary>No view of a block is alive any more.</summary>
    public void ReleaseBlock(long lease) => Head.ReleaseBlock(lease);

    /// <summary>Sets a feedback value for the simulation.</summary>
    public async Task SetFeedbackAsync(string key, long t, FeedbackValue value)
    {
        await Head.SetFeedbackAsync(key, t, value).ConfigureAwait(false);
        Activity.FeedbackSet(key, t, value.Describe());
    }

    /// <summary>Serves the run's dashboard at <paramref name="address"/> ("host:port"); it shows
    /// the run as it ended once the run is disposed, until the dashboard itself is.</summary>
    public Task<DashboardServer> StartDashboardAsync(string address) => DashboardServer.StartAsync(address, _tables!);

    /// <summary>Serves this node's live blocks to Arrow Flight clients at <paramref name="address"/>
    /// ("host:port"), guarded by the session token, until disposed (or the run ends); from now
    /// on each array's newest complete timestep is kept until a newer one is complete.</summary>
    public async Task<Flight.LiveBlocksEndpoint> StartFlightAsync(string address)
    {
        if (Volatile.Read(ref _disposed) != 0) throw DeisaException.State("the run has ended: nothing to serve over Arrow Flight");
        var endpoint = await Flight.LiveBlocksEndpoint.StartAsync(address, Info.Token, Head, Node).ConfigureAwait(false);
        lock (_flights) _flights.Add(endpoint);
        await Head.KeepNewestAsync().ConfigureAwait(false); // so that a client finds each array's newest timestep
        return endpoint;
    }

    /// <summary>The run now, for its dashboard (or as it ended).</summary>
    public async Task<DashboardSnapshot> SnapshotAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _final) is { } final) return final;
        try
        {
            var status = await Head.StatusAsync().WaitAsync(ct).ConfigureAwait(false);
            status = status with { Pool = await Node.UsageAsync().WaitAsync(ct).ConfigureAwait(false) };
            return new DashboardSnapshot(Info.Session, status, ActivityWithFailure(), null);
        }
        catch (DeisaException) when (Volatile.Read(ref _final) is { } ended) { return ended; }
    }

    /// <summary>Ends the run: bridges are told, the socket, record and shared memory are removed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_watch is not null) await _watch.DisposeAsync().ConfigureAwait(false);
        await KeepFinalSnapshotAsync().ConfigureAwait(false);
        // The feedback journal stays for a new analytics unless every rank closed.
        bool ended = false;
        try { ended = await Head.StatusAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false) is { WorldSize: { } w } st && st.ClosedRanks.Count == w; }
        catch (Exception e) when (e is DeisaException or TimeoutException) { }
        (Head.Options.Journal as FeedbackJournal)?.Close(ended);
        await Head.StopAsync("the analytics has finished").ConfigureAwait(false);
        Flight.LiveBlocksEndpoint[] flights;
        lock (_flights) flights = [.. _flights];
        foreach (var flight in flights) await flight.DisposeAsync().ConfigureAwait(false); // before the shared memory goes
        await _server.DisposeAsync().ConfigureAwait(false);
        await _blockChannel!.DisposeAsync().ConfigureAwait(false);
        await Node.ShutdownAsync().ConfigureAwait(false);
        _board?.Dispose();
        _waiter?.Dispose(); // after the head and the connections: nothing nudges its eventfd any more
        _rendezvous.Withdraw(Info);
        if (Info.Address.StartsWith("unix:", StringComparison.Ordinal))
            try { File.Delete(Info.Address["unix:".Length..]); } catch (IOException) { }
        _claim?.Dispose();
    }

    private async Task KeepFinalSnapshotAsync()
    {
        DashboardSnapshot last;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { last = await SnapshotAsync(cts.Token).ConfigureAwait(false); }
        catch (Exception e) when (e is DeisaException or OperationCanceledException)
        {
            last = new DashboardSnapshot(Info.Session, new RunStatus(null, [], [], [], [], null, 0, _options.MaxSimulationAhead), ActivityWithFailure(), null);
        }
        Volatile.Write(ref _final, last with { Ended = Head.Events.Failure?.Message ?? "the analytics has finished" });
        _tables?.Refresh();
    }

    /// <summary>The activity, with the run's failure (if it failed) as its last error.</summary>
    private ActivitySnapshot ActivityWithFailure()
    {
        var activity = Activity.Snapshot();
        return Head.Events.Failure is { } failed
            ? activity with { Errors = [.. activity.Errors, new ErrorRecord(activity.Now, "run", null, failed.Message)] }
            : activity;
    }
}
