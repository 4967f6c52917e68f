using Deisa.Engine.Actors;
using Deisa.Engine.Messages;
using Deisa.Model;
using Deisa.Platform;
using Deisa.SharedMemory;

namespace Deisa.Engine.Head;

/// <summary>
/// The head actor, one per run. Its messages come from the analytics (callbacks, the end of a
/// timestep's callbacks, feedback), from the ranks through their node's server (registration,
/// sends, closes) and from the nodes (blocks committed or given up); it tells the analytics
/// what to do through <see cref="Events"/>, in order. The rules live in its parts:
/// <see cref="Ranks"/> (registration, closing), <see cref="Timeline"/> (the timesteps and
/// back-pressure), <see cref="Windows"/> (what each callback's windows keep),
/// <see cref="Firing"/> (when a callback runs) and the <see cref="FeedbackStore"/>; the actor
/// moves the oldest timestep forward as far as they allow (<see cref="Advance"/>).
/// </summary>
public sealed class HeadActor : Actor, IHeadInbox, IAdmission
{
    private readonly HeadOptions _options;
    private readonly EventQueue _events = new();
    private readonly List<CallbackSpec> _callbacks = new();
    private readonly Ranks _ranks = new();
    private readonly Timeline _timeline;
    private readonly Windows _windows;
    private readonly FeedbackStore _feedback;
    private readonly TaskCompletionSource<IReadOnlyDictionary<string, ArrayLayout>> _layouts = NewCompletion<IReadOnlyDictionary<string, ArrayLayout>>();
    private readonly Dictionary<string, (long T, DType DType)> _lastReceived = new(StringComparer.Ordinal);
    private readonly List<NodeState> _nodes = new(); // a cluster's node services, by index - 1
    private readonly Dictionary<int, (int Count, Func<bool> Answering)> _openChannels = new(); // rank -> its block channels open on this node
    private Dictionary<string, ArrayLayout>? _layoutsValue;
    private bool _stopped;
    private string? _failure;

    /// <summary>Creates the head of a run.</summary>
    public HeadActor(HeadOptions options)
    {
        _options = options;
        _timeline = new Timeline(options.Tickets ?? new CountedTickets(options.MaxSimulationAhead));
        _windows = new Windows(Emit, b => Release(b.Location.Lease));
        _feedback = new FeedbackStore(options.FeedbackQueueSize);
    }

    /// <summary>With Arrow Flight served: each array's newest complete timestep, kept until a
    /// newer one is (<see cref="KeepNewestAsync"/>), from timestep <see cref="_newestFrom"/> on.</summary>
    private NewestTimesteps? _newest;
    private long _newestFrom;

    /// <summary>The analytics' own node (node 0), whose blocks this head releases. Set once before the run starts.</summary>
    public INodeInbox? Node { get; set; }

    /// <summary>The block of <paramref name="lease"/> is no longer the head's: its node is told (on the loop).</summary>
    private void Release(long lease)
    {
        int index = Leases.NodeOf(lease);
        if (index == 0) Node?.Tell(new ReleaseBlock(lease));
        else if (index <= _nodes.Count && !_nodes[index - 1].Lost) _nodes[index - 1].Inbox.Tell(new ReleaseBlock(lease));
    }

    /// <summary>A block's holder in the analytics is done with it (any thread).</summary>
    public void ReleaseBlock(long lease)
    {
        if (Leases.NodeOf(lease) == 0) Node?.Tell(new ReleaseBlock(lease)); // the analytics' own node: no hop
        else Post(() => Release(lease));
    }

    // ---------------------------------------------------------------- nodes of a cluster

    /// <summary>A node service linked to the head; returns its index (1, 2, ...: the high bits of its blocks' leases).</summary>
    public Task<int> AddNodeAsync(string host, string worker, int pid, INodeInbox inbox) => Ask(() =>
    {
        if (_stopped) throw AnalyticsGone();
        if (_nodes.Any(n => !n.Lost && n.Host == host))
            throw DeisaException.State($"node {host} already has a deisa node service (worker {_nodes.First(n => !n.Lost && n.Host == host).Worker}); worker {worker} is refused");
        var node = new NodeState(_nodes.Count + 1, host, worker, pid, inbox);
        _nodes.Add(node);
        if (_layoutsValue is not null) TellLocalArrays(node);
        if (_newest is not null) inbox.Tell(new ServeFlight());
        return node.Index;
    });

    /// <summary>Tells a cluster node which of its ranks hold a block of each array.</summary>
    private void TellLocalArrays(NodeState node)
    {
        var arrays = _layoutsValue!.Values
            .Select(l => (l.Name, Ranks: l.Ranks.Where(r => _ranks[r].Host == node.Host).ToArray()))
            .Where(a => a.Ranks.Length > 0).ToList();
        node.Inbox.Tell(new LocalArrays(arrays.Select(a => a.Name).ToArray(), arrays.Select(a => a.Ranks).ToArray()));
    }

    /// <summary>Node <paramref name="index"/> serves its blocks to Arrow Flight clients at <paramref name="location"/>.</summary>
    public void SetNodeFlight(int index, string location) => Post(() =>
    {
        if (index >= 1 && index <= _nodes.Count) _nodes[index - 1].FlightLocation = location;
    });

    /// <summary>Where each cluster node serves Arrow Flight (by node index), for those that said so.</summary>
    public Task<IReadOnlyDictionary<int, string>> FlightLocationsAsync() => Ask(() =>
        (IReadOnlyDictionary<int, string>)_nodes.Where(n => !n.Lost && n.FlightLocation is not null).ToDictionary(n => n.Index, n => n.FlightLocation!));

    /// <summary>A node's latest pool report.</summary>
    public void SetNodePool(int index, PoolUsage pool) => Post(() =>
    {
        if (index >= 1 && index <= _nodes.Count) _nodes[index - 1].Pool = pool;
    });

    /// <summary>
    /// A node's link ended without the run's end: its worker (and the blocks it held) are gone.
    /// The run fails with an error naming the node, its worker and its ranks, after the events
    /// already queued (the timesteps complete before it).
    /// </summary>
    public void NodeLost(int index, string why) => Post(() =>
    {
        if (index < 1 || index > _nodes.Count || _nodes[index - 1].Lost) return;
        var node = _nodes[index - 1];
        var ranks = _ranks.All.Where(r => r.Host == node.Host).Select(r => r.Rank).Order().ToList();
        node.LostWhy = $"node {node.Host} was lost (Dask worker {node.Worker}: {why}); " +
             (ranks.Count == 0 ? "no rank registered from it" : $"{(ranks.Count == 1 ? "rank" : "ranks")} {string.Join(", ", ranks)} ran there") +
             $"; timesteps processed: up to {(_timeline.LastProcessed is { } p ? p.ToString() : "none")}";
        if (!_stopped && _failure is null) Fail(node.LostWhy);
    });

    /// <summary>Records the process id of a rank that runs on the analytics' node (checked by <see cref="CheckLocalRanks"/>).</summary>
    public void SetLocalPid(int rank, int pid) => Post(() =>
    {
        if (_ranks.TryGet(rank, out var rs)) rs.LocalPid = pid;
    });

    /// <summary>What the analytics must do, in order.</summary>
    public EventQueue Events => _events;

    /// <summary>Settings of the run.</summary>
    public HeadOptions Options => _options;

    // ---------------------------------------------------------------- analytics side

    /// <summary>Registers a callback; call before the simulation's data arrives.</summary>
    public Task<int> AddCallbackAsync(string name, IReadOnlyList<WindowSpec> inputs, FiringRule when) => Ask(() =>
    {
        CallbackSpec.Check(name, inputs, when);
        if (_timeline.Started) throw DeisaException.State($"callback '{name}' registered after data started to arrive");
        var spec = new CallbackSpec(_callbacks.Count, name, inputs.ToArray(), when);
        _callbacks.Add(spec);
        _windows.Add(spec);
        return spec.Id;
    });

    /// <summary>
    /// Waits until every rank registered and the layouts are valid, then checks that every
    /// callback input is a declared array. Errors name the missing ranks or arrays.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, ArrayLayout>> WaitForSimulationAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        IReadOnlyDictionary<string, ArrayLayout> layouts;
        try { layouts = await WaitForLayoutsAsync(timeout, "the analytics", ct).ConfigureAwait(false); }
        catch (DeisaException e) when (e.Status == DeisaStatus.Timeout)
        {
            // The world never completed: the ranks that did register get the same error.
            await Ask(() => _layouts.TrySetException(e)).ConfigureAwait(false);
            throw;
        }
        await Ask(() =>
        {
            foreach (var cb in _callbacks)
            {
                var unknown = cb.Inputs.Select(i => i.Array).Where(a => !layouts.ContainsKey(a)).ToList();
                if (unknown.Count > 0)
                    throw DeisaException.Contract(
                        $"callback '{cb.Name}' asks for {Names(unknown)} that the simulation never declared " +
                        $"(declared arrays: {Names(layouts.Keys.Order(StringComparer.Ordinal))})");
            }
        }).ConfigureAwait(false);
        return layouts;
    }

    /// <summary>The analytics ran every callback announced for <paramref name="t"/> (a late or
    /// repeated notice is ignored).</summary>
    public void FinishTimestep(long t) => Post(() =>
    {
        if (!_timeline.TryGet(t, out var st) || st.Phase != TimestepPhase.Running) return;
        Processed(st);
        Advance();
    });

    /// <summary>Sets a feedback value (docs/specification.md §4, <c>set</c>).</summary>
    public Task SetFeedbackAsync(string key, long t, FeedbackValue value) => Ask(() =>
    {
        _feedback.Set(key, t, value);
        _options.Journal?.Append(new KeyedFeedback(key, t, value));
    });

    /// <summary>Stops the run: waiting bridges are told the analytics went away.</summary>
    public Task StopAsync(string reason) => Ask(() =>
    {
        if (_stopped) return;
        _stopped = true;
        _failure ??= reason;
        foreach (var st in _timeline.All) st.FailWaiters(AnalyticsGone());
        _layouts.TrySetException(AnalyticsGone());
        _events.Complete(new RunFailed(DeisaStatus.State, "the run was stopped"));
    });

    /// <summary>
    /// From now on, each array's newest complete timestep is kept until a newer one is complete
    /// (for Arrow Flight clients: <see cref="LiveArraysAsync"/>), from the first timestep none of
    /// whose blocks came yet; the pool then holds one timestep of each array more.
    /// </summary>
    public Task KeepNewestAsync() => Ask(() =>
    {
        if (_newest is not null) return;
        _newestFrom = _timeline.IsEmpty ? long.MinValue : _timeline.All.Max(st => st.T) + 1;
        _newest = new NewestTimesteps(b => Hold(b.Location.Lease), b => Release(b.Location.Lease));
        foreach (var node in _nodes) if (!node.Lost) node.Inbox.Tell(new ServeFlight()); // each serves its own blocks
    });

    /// <summary>One more lease on a block, told to its node (as <see cref="Release"/>).</summary>
    private void Hold(long lease)
    {
        int index = Leases.NodeOf(lease);
        if (index == 0) Node?.Tell(new HoldBlock(lease));
        else if (index <= _nodes.Count && !_nodes[index - 1].Lost) _nodes[index - 1].Inbox.Tell(new HoldBlock(lease));
    }

    /// <summary>The arrays at the timesteps whose blocks the run holds now (the callbacks'
    /// windows keep them, and with <see cref="KeepNewestAsync"/> each array's newest complete
    /// timestep), in timestep order.</summary>
    public Task<IReadOnlyList<LiveArray>> LiveArraysAsync() => Ask(() =>
    {
        var live = new List<LiveArray>();
        if (_layoutsValue is null) return (IReadOnlyList<LiveArray>)live;
        var seen = new HashSet<(string, long)>();
        foreach (var (name, e) in _windows.All().Concat(_newest?.All() ?? []))
        {
            if (!seen.Add((name, e.T))) continue;
            var layout = _layoutsValue[name];
            var views = new BlockView[e.Blocks.Count];
            for (int k = 0; k < views.Length; k++)
            {
                var b = e.Blocks[k];
                views[k] = new BlockView(layout.Blocks[k].Position, b.Shape, b.Order, b.Location, b.Rank);
            }
            live.Add(new LiveArray(name, e.T, e.Blocks[0].DType, layout.GlobalShape, layout.Chunks, views));
        }
        return live.OrderBy(a => a.Timestep).ThenBy(a => a.Name, StringComparer.Ordinal).ToList();
    });

    /// <summary>A snapshot of the run.</summary>
    public Task<RunStatus> StatusAsync() => Ask(() =>
    {
        var arrays = (_layoutsValue ?? new()).Values.OrderBy(l => l.Name, StringComparer.Ordinal).Select(l =>
        {
            var seen = _lastReceived.TryGetValue(l.Name, out var r) ? r : ((long T, DType DType)?)null;
            var dtype = l.DType != DType.Undeclared ? l.DType : seen?.DType ?? DType.Undeclared;
            return new ArrayStatus(l.Name, l.GlobalShape, l.Chunks, DTypes.NumpyName(dtype), seen?.T);
        }).ToList();
        var nodes = _nodes.Count == 0 ? null : _nodes.Select(n => new NodeStatus(n.Index, n.Host, n.Worker,
            _ranks.All.Where(r => r.Host == n.Host).Select(r => r.Rank).Order().ToList(), n.LostWhy, n.Pool)).ToList();
        return new RunStatus(_ranks.WorldSize, _ranks.Where(_ => true), _ranks.Where(r => r.Closed), _ranks.Where(r => r.Lost),
            arrays, _timeline.LastProcessed, _timeline.Pending, _options.MaxSimulationAhead, Nodes: nodes);
    });

    // ---------------------------------------------------------------- simulation side

    /// <summary>
    /// Registers a rank and its arrays; returns once every rank of the world registered and the
    /// layouts are valid (collective, without MPI). A layout error is reported to every rank.
    /// </summary>
    /// <remarks><paramref name="host"/> names the rank's node: on a cluster, the pool's check and
    /// a lost node's error group ranks by it.</remarks>
    public async Task<IReadOnlyDictionary<string, ArrayLayout>> RegisterAsync(int rank, int worldSize, IReadOnlyList<BlockDeclaration> arrays, TimeSpan timeout, CancellationToken ct = default, string host = "", long? heldFrom = null)
    {
        World.Check(rank, worldSize);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var a in arrays)
        {
            if (a.Rank != rank) throw DeisaException.Value($"array '{a.Array}' is declared for rank {a.Rank} by rank {rank}");
            a.Validate();
            if (!names.Add(a.Array)) throw DeisaException.DeclaredTwice(rank, a.Array);
        }
        await Ask(() =>
        {
            if (_stopped) throw AnalyticsGone();
            _ranks.Add(rank, worldSize, arrays);
            _ranks[rank].Host = host;
            _ranks[rank].HeldFrom = heldFrom;
            ReserveFirstBlocks(arrays, host);
            if (_ranks.Complete) BuildLayouts();
        }).ConfigureAwait(false);
        return await WaitForLayoutsAsync(timeout, $"rank {rank}", ct).ConfigureAwait(false);
    }

    /// <summary>Where the ranks that held blocks for this analytics start sending them (null:
    /// none held any); set once every rank registered, before the layouts are known.</summary>
    public long? ReplayFrom { get; private set; }

    private async Task<IReadOnlyDictionary<string, ArrayLayout>> WaitForLayoutsAsync(TimeSpan timeout, string who, CancellationToken ct)
    {
        var task = _layouts.Task;
        if (!task.IsCompleted)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var delay = Task.Delay(Waits.Clamp(timeout), cts.Token);
            if (await Task.WhenAny(task, delay).ConfigureAwait(false) != task)
            {
                ct.ThrowIfCancellationRequested();
                throw DeisaException.Timeout($"{who} waited {timeout.TotalSeconds:0.#} s for the simulation to register: " + await Ask(_ranks.Missing).ConfigureAwait(false));
            }
            cts.Cancel();
        }
        return await task.ConfigureAwait(false);
    }

    /// <summary>
    /// A rank's blocks of the timesteps that can be in flight at once (pending ones, the one
    /// being sent and, on the analytics' node, the slot granted ahead for the next) get their
    /// memory as soon as the rank registered, while the other ranks start, not inside the first
    /// sends. Blocks of arrays whose dtype comes with the first send are not known yet.
    /// </summary>
    /// <remarks>On a cluster the rank's own node reserves them, if its node service is linked already.</remarks>
    private void ReserveFirstBlocks(IReadOnlyList<BlockDeclaration> arrays, string host)
    {
        var blocks = arrays.Where(a => a.DType != DType.Undeclared).Select(a => a.BlockBytes(a.DType)).ToList();
        if (blocks.Count == 0) return;
        var node = _options.Cluster ? _nodes.FirstOrDefault(n => n.Host == host && !n.Lost)?.Inbox : Node;
        int inFlight = _options.MaxSimulationAhead + (_options.Cluster ? 1 : 2);
        node?.Tell(new ReserveBlocks(Enumerable.Repeat(blocks, Math.Min(inFlight, 8)).SelectMany(x => x).ToArray()));
    }

    private void BuildLayouts()
    {
        try
        {
            var layouts = _ranks.All.SelectMany(r => r.Arrays).GroupBy(d => d.Array, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => ArrayLayout.Build(g.Key, g.OrderBy(d => d.Rank).ToList()), StringComparer.Ordinal);
            // Summed in 128 bits: many huge arrays must give "too large", not an overflow.
            // Every node has a pool of its own: on a cluster, the ranks of each host count apart.
            var bytes = new Dictionary<string, Int128>(StringComparer.Ordinal);
            foreach (var l in layouts.Values.Where(l => l.DType != DType.Undeclared))
                foreach (var b in l.Blocks)
                {
                    var node = _options.Cluster ? _ranks[b.Rank].Host : "";
                    bytes[node] = bytes.GetValueOrDefault(node) + SegmentPool.Footprint(b.BlockBytes(l.DType));
                }
            // Served over Arrow Flight, a timestep is kept until the next one is complete: two.
            int timesteps = _newest is null ? 1 : 2;
            foreach (var (node, total) in bytes)
                if (total * timesteps > _options.PoolBytes)
                    throw DeisaException.Value(
                        $"the shared-memory pool ({_options.PoolBytes} bytes) is smaller than {(timesteps == 1 ? "one timestep" : "two timesteps (Arrow Flight keeps the newest until the next is complete)")} " +
                        $"of {(node.Length == 0 ? "this node" : $"node {node}")}'s blocks ({total * timesteps} bytes); raise pool_size or DEISA_POOL_SIZE");
            _layoutsValue = layouts;
            // Ranks of a simulation whose analytics was lost send what they held from the latest
            // of their oldest timesteps: every rank holds it, and every earlier one was processed.
            ReplayFrom = _ranks.All.Where(r => r.HeldFrom is not null).Select(r => r.HeldFrom).Max();
            if (_options.Journal is { } journal)
            {
                // A continuing simulation gets the feedback its lost analytics had set.
                if (ReplayFrom is not null)
                    foreach (var e in journal.Inherited)
                        try
                        {
                            _feedback.Set(e.Key, e.Timestep, e.Value);
                            journal.Append(e);
                        }
                        catch (DeisaException) { } // a value the journal holds twice
                journal.Settled();
            }
            _windows.Start(layouts.Keys);
            foreach (var n in _nodes) if (!n.Lost) TellLocalArrays(n);
            _layouts.TrySetResult(layouts);
        }
        catch (DeisaException e)
        {
            _failure = e.Message;
            _layouts.TrySetException(e);
            Emit(new RunFailed(e.Status, e.Message));
        }
    }

    /// <summary>
    /// A rank calls send for (array, t): records the call (it counts for closing earlier
    /// timesteps at once), checks the dtype, then waits while <c>max_simulation_ahead</c>
    /// timesteps are pending and its timestep is not one of them.
    /// </summary>
    /// <remarks>The block is checked against the rank's declaration first (its shape, dtype and
    /// size), so that a malformed request can never corrupt an assembled array.</remarks>
    public async Task AdmitAsync(BlockSend send, TimeSpan timeout, CancellationToken ct = default)
    {
        var (rank, array, t) = (send.Rank, send.Array, send.Timestep);
        var admitted = await Ask(() =>
        {
            try
            {
                _layoutsValue?.GetValueOrDefault(array)?.BlockOf(rank)?.CheckBlock(send.DType, send.Shape, send.Order, send.NBytes); // else Announce names the error
                return Announce(rank, array, t, send.DType, send.Ticketed);
            }
            catch when (send.Ticketed)
            {
                _timeline.ReturnTicket(); // a refused send opens no timestep
                throw;
            }
        }).ConfigureAwait(false);
        if (admitted.Task.IsCompleted) { await admitted.Task.ConfigureAwait(false); return; }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var delay = Task.Delay(Waits.Clamp(timeout), cts.Token);
        if (await Task.WhenAny(admitted.Task, delay).ConfigureAwait(false) != admitted.Task)
        {
            Withdraw(rank, array, t);
            ct.ThrowIfCancellationRequested();
            throw DeisaException.Timeout(
                $"rank {rank}: send of '{array}' at timestep {t} waited {timeout.TotalSeconds:0.#} s for the analytics " +
                $"({_timeline.Pending} timestep(s) pending, max_simulation_ahead={_options.MaxSimulationAhead})");
        }
        cts.Cancel();
        await admitted.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// A send that was called but will not commit (timed out, abandoned): the rank may send
    /// that (array, timestep) again, and the timestep may close without it.
    /// </summary>
    public void Withdraw(int rank, string array, long t) => Post(() =>
    {
        if (_timeline.TryGet(t, out var st) && st.Arrays.TryGetValue(array, out var at) && !at.Blocks.ContainsKey(rank))
        {
            at.Announced.Remove(rank);
            Advance();
        }
    });

    private TaskCompletionSource<bool> Announce(int rank, string array, long t, DType dtype, bool ticketed = false)
    {
        if (_stopped || _failure is not null) throw AnalyticsGone();
        var layouts = _layoutsValue ?? throw DeisaException.State($"rank {rank} sent before every rank registered");
        if (!_ranks.TryGet(rank, out var rs)) throw DeisaException.State($"rank {rank} is not registered");
        if (rs.Closed) throw DeisaException.State($"rank {rank}: send after close");
        if (!layouts.TryGetValue(array, out var layout) || layout.BlockOf(rank) is null)
            throw DeisaException.Undeclared(rank, array, rs.Arrays.Select(a => a.Array));
        if (rs.LastAnnounced is { } last && t < last)
            throw DeisaException.Value($"rank {rank}: timestep {t} is older than timestep {last} already sent (timesteps must not decrease)");
        if (_timeline.LastProcessed is { } done && t <= done)
            throw DeisaException.Value($"rank {rank}: timestep {t} was already closed and processed");
        DTypes.CheckDefined(dtype, array);

        var st = _timeline.GetOrAdd(t);
        if (!st.Arrays.TryGetValue(array, out var at)) st.Arrays[array] = at = new ArrayAtTimestep(layout);
        if (at.DType == DType.Undeclared) { at.DType = dtype; at.DTypeRank = rank; }
        else if (at.DType != dtype)
            throw DeisaException.Type(at.DTypeRank < 0
                ? $"array '{array}' is declared as {DTypes.NumpyName(at.DType)}, rank {rank} sent {DTypes.NumpyName(dtype)}"
                : $"array '{array}' at timestep {t}: rank {rank} sent {DTypes.NumpyName(dtype)} but rank {at.DTypeRank} sent {DTypes.NumpyName(at.DType)}");
        if (!at.Announced.Add(rank))
            throw DeisaException.Value($"rank {rank}: array '{array}' was already sent at timestep {t}");

        rs.LastAnnounced = t;
        if (ticketed) _timeline.AdmitWithTicket(st);
        var tcs = NewCompletion<bool>();
        if (st.Admitted) tcs.TrySetResult(true);
        else
        {
            st.AdmissionWaiters.Add(tcs);
            _timeline.AdmitWaiting();
        }
        Advance();
        return tcs;
    }

    /// <summary>A node's news: a block committed into its shared memory, or given up.</summary>
    public void Tell(HeadMessage message)
    {
        switch (message)
        {
            case BlockArrived b: Arrived(b); break;
            case BlockAbandoned a: Withdraw(a.Rank, a.Array, a.Timestep); break;
            default: throw new ArgumentException($"the head does not handle {message.GetType().Name}", nameof(message));
        }
    }

    private void Arrived(BlockArrived b) => Post(() =>
    {
        if (!_timeline.TryGet(b.Timestep, out var st) || !st.Arrays.TryGetValue(b.Array, out var at)
            || !at.Announced.Contains(b.Rank) || at.Blocks.ContainsKey(b.Rank) || _stopped)
        {
            // Not announced, a duplicate, or a run that ended: never let it leak its slot.
            Release(b.Location.Lease);
            return;
        }
        at.Blocks[b.Rank] = b;
        _lastReceived[b.Array] = (b.Timestep, b.DType);
        if (_ranks.TryGet(b.Rank, out var rs)) rs.LastSent = Math.Max(rs.LastSent ?? long.MinValue, b.Timestep);
        // No callback reads this array: released now, unless kept as its newest timestep.
        if (!_windows.IsNeeded(b.Array) && (_newest is null || b.Timestep < _newestFrom)) Release(b.Location.Lease);
        if (_newest is not null && at.Complete) KeepNewest(at, b.Timestep); // as it completes, even while callbacks run
        Advance();
        AwaitLastBlocks(st);
    });

    private volatile AwaitedBlock[] _awaited = [];

    /// <summary>
    /// The blocks that complete an array a callback waits for (the last block it misses at the
    /// timestep that last received one): such a block's send wakes the analytics' reader as it
    /// arrives, so that the reader is up when its event comes.
    /// </summary>
    internal AwaitedBlock[] AwaitedBlocks => _awaited;

    private void AwaitLastBlocks(TimestepState st)
    {
        AwaitedBlock[]? blocks = null;
        int n = 0;
        foreach (var at in st.Arrays.Values)
        {
            if (at.Complete || at.Layout.BlockCount - at.Blocks.Count != 1 || !_windows.IsNeeded(at.Layout.Name)) continue;
            foreach (var d in at.Layout.Blocks)
                if (!at.Blocks.ContainsKey(d.Rank))
                {
                    (blocks ??= new AwaitedBlock[st.Arrays.Count])[n++] = new AwaitedBlock(d.Rank, at.Layout.Name, st.T);
                    break;
                }
        }
        _awaited = blocks is null ? [] : blocks[..n];
    }

    /// <summary>A rank closed its bridge: nothing more will come from it.</summary>
    public Task CloseAsync(int rank, long? timestep) => Ask(() =>
    {
        if (!_ranks.TryGet(rank, out var rs)) throw DeisaException.State($"rank {rank} is not registered");
        rs.Closed = true;
        if (timestep is { } t) rs.LastAnnounced = Math.Max(rs.LastAnnounced ?? t, t);
        Advance();
    });

    /// <summary>
    /// Marks as lost the ranks on this node whose process has ended. A second watch besides the
    /// connection's end: it sees a death whatever the transport noticed.
    /// </summary>
    public void CheckLocalRanks() => Post(() =>
    {
        foreach (var rs in _ranks.All.ToList())
            if (!rs.Finished && rs.LocalPid > 0 && !Libc.ProcessAlive(rs.LocalPid))
                LoseWhenDrained(rs);
    });

    /// <summary>A rank's connection ended without a close (its process died).</summary>
    public void RankLost(int rank) => Post(() =>
    {
        if (!_ranks.TryGet(rank, out var rs) || rs.Finished) return;
        // On a cluster, a rank's death often comes with its node's: the node's link is given a
        // moment to end too, so that the run's error names the node rather than its ranks.
        if (_nodes.Any(n => n.Host == rs.Host && !n.Lost))
            _ = Task.Delay(NodeGrace).ContinueWith(_ => Post(() => { if (!rs.Finished) LoseRank(rs); }), TaskScheduler.Default);
        else LoseWhenDrained(rs);
    });

    /// <summary>
    /// A rank whose process is gone may have sent blocks without waiting (posted, committed
    /// ahead) that its block channel has not handled yet: they are its last sends, and count.
    /// The rank is lost once its channel ended (it handles every frame first), or after
    /// <see cref="DrainGrace"/> at most.
    /// </summary>
    private void LoseWhenDrained(RankState rs)
    {
        if (rs.Finished) return;
        // A rank that died waiting for an answer sent nothing after its request: nothing to wait for.
        if (!_openChannels.TryGetValue(rs.Rank, out var channel) || channel.Answering())
        {
            LoseRank(rs);
            return;
        }
        if (rs.LossPending) return;
        rs.LossPending = true;
        _ = Task.Delay(DrainGrace).ContinueWith(_ => Post(() => { if (!rs.Finished) LoseRank(rs); }), TaskScheduler.Default);
    }

    /// <summary>How long a lost rank's block channel may take to hand over what it holds.</summary>
    private static readonly TimeSpan DrainGrace = TimeSpan.FromSeconds(2);

    /// <inheritdoc/>
    public void BlockChannelOpened(int rank, Func<bool> answering) =>
        Post(() => _openChannels[rank] = (_openChannels.GetValueOrDefault(rank).Count + 1, answering));

    /// <inheritdoc/>
    public void BlockChannelClosed(int rank) => Post(() =>
    {
        if (_openChannels.TryGetValue(rank, out var open) && open.Count > 1)
        {
            _openChannels[rank] = open with { Count = open.Count - 1 };
            return;
        }
        _openChannels.Remove(rank);
        if (_ranks.TryGet(rank, out var rs) && rs.LossPending && !rs.Finished) LoseRank(rs);
    });

    /// <summary>How long a rank's loss waits for the news of its node's (see <see cref="RankLost"/>).</summary>
    private static readonly TimeSpan NodeGrace = TimeSpan.FromMilliseconds(500);

    private void LoseRank(RankState rs)
    {
        rs.Lost = true;
        Node?.Tell(new RankGone(rs.Rank));
        foreach (var n in _nodes) if (!n.Lost) n.Inbox.Tell(new RankGone(rs.Rank));
        foreach (var st in _timeline.All)
            foreach (var at in st.Arrays.Values)
                if (!at.Blocks.ContainsKey(rs.Rank)) at.Announced.Remove(rs.Rank); // its writes will never commit
        Advance();
    }

    /// <summary>Feedback for a rank (consistent across ranks, see <see cref="FeedbackStore"/>).</summary>
    public Task<FeedbackAnswer> GetFeedbackAsync(int rank, string key, long? t) => Ask(() =>
    {
        if (string.IsNullOrEmpty(key)) throw DeisaException.Value("feedback key must be a non-empty string");
        return _feedback.Get(rank, key, t);
    });

    // ---------------------------------------------------------------- the oldest timestep, forward

    /// <summary>
    /// Moves the oldest timestep forward as far as the data, the ranks and the analytics allow:
    /// its complete arrays join the windows; its callbacks are decided in registration order;
    /// once they all were, it runs (if some fired) or is processed; once processed and closed,
    /// it goes and the next one is looked at.
    /// </summary>
    private void Advance()
    {
        while (!_stopped && _failure is null && _layoutsValue is not null)
        {
            if (_timeline.IsEmpty)
            {
                if (_ranks.AllFinished) Finish();
                return;
            }
            var st = _timeline.First;
            // Running: the analytics runs its callbacks (FinishTimestep moves it on). Waiting:
            // not admitted yet, which the oldest timestep is as soon as a send of it is called.
            if (st.Phase is TimestepPhase.Running or TimestepPhase.Waiting || !_ranks.AllReached(st.T)) return;
            // A block being written (e.g. an open zero-copy buffer) keeps its timestep open.
            bool closed = _ranks.IsClosed(st.T) && !st.Arrays.Values.Any(a => a.InFlight);
            foreach (var at in st.Arrays.Values)
                if (at.Complete && !at.Pushed && _windows.IsNeeded(at.Layout.Name)) Push(at, st.T);

            if (closed)
            {
                var partial = st.Arrays.Values.FirstOrDefault(a => a.Blocks.Count > 0 && !a.Complete)
                    ?? st.Arrays.Values.FirstOrDefault(a => a.Blocks.Count == 0 && a.Layout.Ranks.Any(r => _ranks[r].Lost));
                if (partial is not null) { Fail(FlowViolation(partial, st.T)); return; }
            }

            while (st.NextCallback < _callbacks.Count)
            {
                var cb = _callbacks[st.NextCallback];
                var d = Firing.Decide(cb, st, closed, _windows);
                if (d == Firing.Decision.Wait) return;
                if (d == Firing.Decision.Fire) { Fire(cb, st.T); st.AnyFired = true; }
                st.NextCallback++;
            }
            if (st.Phase == TimestepPhase.Admitted)
            {
                if (st.AnyFired)
                {
                    _timeline.Run(st);
                    Emit(new TimestepDone(st.T));
                    return;
                }
                Processed(st);
            }
            if (!closed) return;
            _windows.Trim();
            _timeline.RemoveFirst();
        }
    }

    /// <summary>The callbacks of <paramref name="st"/> ran (or none fired): the windows let go of
    /// what no future window needs, and the timestep stops counting against back-pressure.</summary>
    private void Processed(TimestepState st)
    {
        _windows.Trim();
        _timeline.Processed(st);
    }

    private void Push(ArrayAtTimestep at, long t)
    {
        at.Pushed = true;
        _windows.Push(at.Layout.Name, t, InLayoutOrder(at)); // in the layout's order (Fire relies on it)
    }

    private void KeepNewest(ArrayAtTimestep at, long t)
    {
        if (t < _newestFrom) return; // its blocks came before: some may be gone
        var blocks = InLayoutOrder(at);
        _newest!.Keep(at.Layout.Name, t, blocks);
        // An array no callback reads kept the head's own lease until now (see Arrived).
        if (!_windows.IsNeeded(at.Layout.Name)) foreach (var b in blocks) Release(b.Location.Lease);
    }

    private static List<BlockArrived> InLayoutOrder(ArrayAtTimestep at)
    {
        var blocks = new List<BlockArrived>(at.Layout.Blocks.Count);
        foreach (var b in at.Layout.Blocks) blocks.Add(at.Blocks[b.Rank]);
        return blocks;
    }

    private void Fire(CallbackSpec cb, long t)
    {
        // Plain loops: this runs between the last rank's send and the callback.
        var windows = new OrderedDictionary<string, long[]>(cb.Inputs.Count, StringComparer.Ordinal); // in the callback's input order
        foreach (var input in cb.Inputs)
        {
            var h = _windows.Of(input.Array);
            var timesteps = new long[Math.Min(h.Count, input.Size)];
            int skip = h.Count - timesteps.Length, i = 0;
            foreach (var e in h)
            {
                if (skip-- > 0) continue;
                timesteps[i++] = e.T;
                if (e.Delivered) continue;
                e.Delivered = true;
                var layout = _layoutsValue![input.Array];
                var views = new BlockView[e.Blocks.Count];
                for (int k = 0; k < views.Length; k++)
                {
                    var b = e.Blocks[k]; // in the layout's order (Push)
                    views[k] = new BlockView(layout.Blocks[k].Position, b.Shape, b.Order, b.Location, b.Rank);
                }
                Emit(new ArrayReady(input.Array, e.T, e.Blocks[0].DType, layout.GlobalShape, layout.Chunks, views));
            }
            windows[input.Array] = timesteps;
        }
        Emit(new CallbackDue(cb.Id, t, windows));
    }

    private string FlowViolation(ArrayAtTimestep at, long t)
    {
        var missing = at.Layout.Ranks.Where(r => !at.Blocks.ContainsKey(r)).ToList();
        var lost = missing.Where(r => _ranks[r].Lost).ToList();
        var why = lost.Count > 0
            ? $"; {(lost.Count == 1 ? "rank" : "ranks")} {string.Join(", ", lost)} ended without closing the bridge"
            : "";
        return $"logical flow of data was violated: array '{at.Layout.Name}' at timestep {t} is missing the blocks of " +
               $"{(missing.Count == 1 ? "rank" : "ranks")} {string.Join(", ", missing)}, while later timesteps were already sent{why}";
    }

    private void Finish()
    {
        var lost = _ranks.All.Where(r => r.Lost).OrderBy(r => r.Rank).ToList();
        if (lost.Count > 0)
        {
            Fail(string.Join("; ", lost.Select(r =>
                $"rank {r.Rank} ended without closing its bridge (last timestep it sent: {(r.LastSent is { } s ? s.ToString() : "none")})")));
            return;
        }
        _stopped = true;
        _windows.Clear();
        _newest?.Clear();
        Emit(new RunEnded());
    }

    private void Fail(string message)
    {
        _failure = message;
        Emit(new RunFailed(DeisaStatus.State, message));
        foreach (var st in _timeline.All) st.FailWaiters(AnalyticsGone());
    }

    private void Emit(AnalyticsEvent e) => _events.Write(e);

    private DeisaException AnalyticsGone() =>
        new(DeisaStatus.AnalyticsLost, _failure is null ? "the analytics has stopped" : $"the analytics has stopped: {_failure}");

    private static string Names(IEnumerable<string> names) => "[" + string.Join(", ", names.Select(n => $"'{n}'")) + "]";
}
