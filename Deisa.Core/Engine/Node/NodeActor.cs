using Deisa.Engine.Actors;
using Deisa.Engine.Messages;
using Deisa.Model;
using Deisa.SharedMemory;

namespace Deisa.Engine.Node;

/// <summary>
/// The node actor: owns the node's shared-memory pool, hands slots to the bridges of its node,
/// collects committed blocks and reports them to the head, and counts the leases that keep a
/// block's slot out of the pool. A full pool makes rent requests wait, never fail, until the
/// caller's deadline.
/// </summary>
public sealed class NodeActor : Actor, INodeInbox
{
    private sealed class Entry(BlockSend request, Slot slot)
    {
        public BlockSend Request { get; set; } = request;
        public Slot Slot { get; } = slot;
        public bool Committed;
        public int Leases;
        /// <summary>Granted ahead (<see cref="TryRentAheadAsync"/>): no send announced it yet.</summary>
        public bool Ahead;
    }

    private sealed record Waiter(BlockSend Request, TaskCompletionSource<RentedSlot> Completion, long RetiredSeen)
    {
        /// <summary>The block itself, when the call carried it: written and committed at the grant.</summary>
        public ReadOnlyMemory<byte>? Data { get; init; }
    }

    private readonly SegmentPool _pool;
    private readonly IHeadInbox _head;
    private readonly Dictionary<long, Entry> _entries = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly List<Task> _reservations = new(); // segments being created off the loop
    private bool _shutDown;

    /// <summary>Creates the node actor of a run with a pool of <paramref name="poolBytes"/>
    /// (<paramref name="anonymous"/>: memfd segments, as a cluster node's, see <see cref="Segment"/>).</summary>
    public NodeActor(string segmentPrefix, long poolBytes, IHeadInbox head, bool anonymous = false)
    {
        _pool = new SegmentPool(segmentPrefix, poolBytes, anonymous);
        _head = head;
    }

    /// <summary>The head's messages: a block's release, the reservation of the first blocks' memory.</summary>
    public void Tell(NodeMessage message)
    {
        switch (message)
        {
            case ReleaseBlock r: Release(r.Lease); break;
            case HoldBlock h: AddLease(h.Lease); break;
            case ReserveBlocks r: Reserve(r.BlockBytes); break;
            case RankGone r: AbandonRank(r.Rank); break;
            case LocalArrays: break; // the analytics' own node reports each block as it comes
            case ServeFlight: break; // the analytics' own endpoint serves the analytics' own node
            default: throw new ArgumentException($"a node does not handle {message.GetType().Name}", nameof(message));
        }
    }

    /// <summary>Where a segment of this node's pool is mapped in this process (any thread); null
    /// for a segment the pool no longer has.</summary>
    public nint? AddressOf(string segment) => _pool.AddressOf(segment);

    /// <summary>Pool budget in bytes.</summary>
    public long PoolBudget => _pool.Budget;

    /// <summary>
    /// A slot for one block; waits while the pool is full. <paramref name="retiredSeen"/> is the
    /// retirement sequence the bridge last saw, so the reply lists segments it must unmap.
    /// </summary>
    public async Task<RentedSlot> RentAsync(BlockSend request, long retiredSeen, CancellationToken ct)
    {
        var tcs = NewCompletion<RentedSlot>();
        var waiter = new Waiter(request, tcs, retiredSeen);
        Post(() => Enqueue(waiter));
        RentedSlot rented;
        using (ct.Register(() => Post(() => Cancel(waiter))))
            rented = await tcs.Task.ConfigureAwait(false);
        // The registration is gone: a cancellation from now on is seen here, not in Cancel.
        if (ct.IsCancellationRequested)
        {
            Abandon(rented.Slot.Id, request.Rank);
            ct.ThrowIfCancellationRequested();
        }
        return rented;
    }

    /// <summary>
    /// A small block carried by the call: its slot, the copy of its bytes and its commit in one
    /// message of the loop (waits while the pool is full, as <see cref="RentAsync"/>). Once the
    /// slot is granted the block is sent, and a late cancellation changes nothing.
    /// </summary>
    public async Task<RentedSlot> SendAsync(BlockSend request, ReadOnlyMemory<byte> data, long retiredSeen, CancellationToken ct)
    {
        var tcs = NewCompletion<RentedSlot>();
        var waiter = new Waiter(request, tcs, retiredSeen) { Data = data };
        Post(() => Enqueue(waiter));
        if (tcs.Task.IsCompleted) return await tcs.Task.ConfigureAwait(false); // served at once: nothing to cancel
        using (ct.Register(() => Post(() => Cancel(waiter))))
            return await tcs.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// As <see cref="RentAsync"/> (or, with <paramref name="data"/>, <see cref="SendAsync"/>) when a
    /// slot is free now and no request waits before this one; null (nothing done) when the
    /// request would have to wait.
    /// </summary>
    public Task<RentedSlot?> TryRentNowAsync(BlockSend request, ReadOnlyMemory<byte>? data, long retiredSeen) => Ask(() =>
    {
        if (_shutDown || _waiters.First is not null || !_pool.CanEverFit(request.NBytes)) return null;
        var tcs = NewCompletion<RentedSlot>();
        var waiter = new Waiter(request, tcs, retiredSeen) { Data = data };
        _waiters.AddLast(waiter);
        ServeWaiters();
        if (tcs.Task.IsCompletedSuccessfully) return tcs.Task.Result;
        _waiters.Remove(waiter); // no slot now: the caller waits the usual way
        return (RentedSlot?)null;
    });

    /// <summary>
    /// A slot granted ahead to a rank for its next block of <paramref name="like"/>'s array (as
    /// large): null when a request waits, or when the pool would then be more than half in use
    /// (a rank then asks when it sends). A slot held ahead, which its rank may not write for a
    /// while, must not be what other sends wait for: a pool that is getting full grants none.
    /// No send is announced until the rank commits it (<see cref="CommitAheadAsync"/>); given
    /// back, it goes back to the pool alone.
    /// </summary>
    public Task<RentedSlot?> TryRentAheadAsync(BlockSend like, long retiredSeen) => Ask(() =>
    {
        if (_shutDown || _waiters.First is not null || !_pool.CanEverFit(like.NBytes)) return null;
        if (_pool.InUse + SegmentPool.Footprint(like.NBytes) > _pool.Budget / 2) return null;
        var slot = _pool.TryRent(like.NBytes);
        if (slot is null) return null;
        _entries[slot.Id] = new Entry(like, slot) { Ahead = true };
        return (RentedSlot?)new RentedSlot(slot, _pool.RetiredSince(retiredSeen), _pool.RetiredSeq);
    });

    /// <summary>The rank wrote its block into a slot granted ahead: it is the block of
    /// <paramref name="send"/> (admitted by then), reported to the head as any commit.</summary>
    public Task CommitAheadAsync(long slotId, BlockSend send) => Ask(() =>
    {
        if (!_entries.TryGetValue(slotId, out var e) || e.Committed || !e.Ahead || e.Request.Rank != send.Rank)
            throw DeisaException.State($"rank {send.Rank}: slot {slotId} is not a slot granted ahead to this rank");
        if (send.NBytes != e.Slot.NBytes)
            throw DeisaException.Value($"rank {send.Rank}: a block of {send.NBytes} bytes in a slot of {e.Slot.NBytes}");
        e.Request = send;
        e.Ahead = false;
        Commit(e);
    });

    private void Enqueue(Waiter w)
    {
        if (_shutDown) { w.Completion.TrySetException(new DeisaException(DeisaStatus.AnalyticsLost, "the analytics has finished")); return; }
        if (!_pool.CanEverFit(w.Request.NBytes))
        {
            w.Completion.TrySetException(DeisaException.Value(
                $"array '{w.Request.Array}': a block of {w.Request.NBytes} bytes does not fit in the shared-memory pool of {_pool.Budget} bytes; raise pool_size or DEISA_POOL_SIZE"));
            return;
        }
        _waiters.AddLast(w);
        ServeWaiters();
    }

    private void Cancel(Waiter w)
    {
        // A granted slot belongs to the caller, who abandons it if it was cancelled meanwhile.
        if (w.Completion.Task.IsCompleted) return;
        _waiters.Remove(w);
        w.Completion.TrySetCanceled();
    }

    private void ServeWaiters()
    {
        while (_waiters.First is { } node)
        {
            var w = node.Value;
            var slot = _pool.TryRent(w.Request.NBytes);
            if (slot is null && TakeAheadOf(w) is { } ahead)
            {
                // The pool is full, and the rank holds a slot granted ahead that it has not
                // written (it asks for a slot instead): the request gets that one. The rank
                // drops the slot ahead once this grant names it.
                _waiters.RemoveFirst();
                ahead.Request = w.Request;
                ahead.Ahead = false;
                if (!w.Completion.TrySetResult(new RentedSlot(ahead.Slot, _pool.RetiredSince(w.RetiredSeen), _pool.RetiredSeq))) Free(ahead);
                else if (w.Data is { } written)
                {
                    written.Span.CopyTo(ahead.Slot.Segment.Slice(ahead.Slot.Offset, written.Length));
                    Commit(ahead);
                }
                continue;
            }
            if (slot is null) return; // FIFO: later requests wait behind the first one.
            _waiters.RemoveFirst();
            var entry = new Entry(w.Request, slot);
            _entries[slot.Id] = entry;
            // The segments retired since the bridge last looked go with the grant: no second hop.
            var rented = new RentedSlot(slot, _pool.RetiredSince(w.RetiredSeen), _pool.RetiredSeq);
            if (w.Data is { } data) data.Span.CopyTo(slot.Segment.Slice(slot.Offset, data.Length));
            if (!w.Completion.TrySetResult(rented)) { Free(entry); continue; }
            if (w.Data is not null) Commit(entry);
        }
    }

    /// <summary>A slot granted ahead to the waiter's rank for a block of its block's size, if it holds one.</summary>
    private Entry? TakeAheadOf(Waiter w)
    {
        foreach (var e in _entries.Values)
            if (e.Ahead && !e.Committed && e.Request.Rank == w.Request.Rank && e.Slot.NBytes == w.Request.NBytes)
                return e;
        return null;
    }

    /// <summary>
    /// Prepares free segments for blocks of these sizes (the blocks of the first timesteps,
    /// known once every rank registered), so that the first sends find pre-faulted memory
    /// instead of creating it. Segments are created off the loop, at most half the pool.
    /// </summary>
    public void Reserve(IReadOnlyList<long> blockBytes) => Post(() =>
    {
        if (_shutDown) return;
        foreach (var nbytes in blockBytes)
        {
            if (_pool.Reserve(nbytes, _pool.Budget / 2) is not { } name) break;
            var need = SegmentPool.Footprint(nbytes);
            lock (_reservations) _reservations.Add(Task.Run(() => CreateReserved(name, need)));
        }
    });

    private void CreateReserved(string name, long capacity)
    {
        Segment? segment = null;
        try { segment = _pool.CreateSegment(name, capacity); }
        catch (Exception) { } // the pool creates it on demand instead
        try
        {
            Post(() =>
            {
                if (segment is null || _shutDown)
                {
                    _pool.CancelReserved(capacity);
                    Discard(segment);
                }
                else _pool.AddReserved(segment);
                // Waiters that waited for this segment get it, or create their own now.
                if (!_shutDown) ServeWaiters();
            });
        }
        catch (ObjectDisposedException) { Discard(segment); } // the actor is gone
    }

    private static void Discard(Segment? segment)
    {
        segment?.Unlink();
        segment?.Dispose();
    }

    /// <summary>
    /// The bridge has written its block: report it to the head. The block then holds one lease,
    /// owned by the head until it hands the block to the analytics or drops it.
    /// </summary>
    public Task CommitAsync(long slotId, int rank) => Ask(() =>
    {
        if (!_entries.TryGetValue(slotId, out var e) || e.Committed || e.Request.Rank != rank)
            throw DeisaException.State($"rank {rank}: slot {slotId} is not a block being written by this rank");
        Commit(e);
    });

    private void Commit(Entry e)
    {
        e.Committed = true;
        e.Leases = 1;
        var r = e.Request;
        var s = e.Slot;
        _head.Tell(new BlockArrived(r.Rank, r.Array, r.Timestep, r.DType, r.Shape, r.Order, new BlockLocation(s.Id, s.Segment.Name, s.Offset, s.NBytes)));
    }

    /// <summary>The bridge gave up writing a block: its slot goes back to the pool.</summary>
    public void Abandon(long slotId, int rank) => Post(() => AbandonSlot(slotId, rank));

    /// <summary>As <see cref="Abandon"/>; completes once the head was told, so that the same
    /// block sent again reaches the head after the news of its abandon.</summary>
    public Task AbandonAsync(long slotId, int rank) => Ask(() => AbandonSlot(slotId, rank));

    private void AbandonSlot(long slotId, int rank)
    {
        if (_entries.TryGetValue(slotId, out var e) && !e.Committed && e.Request.Rank == rank)
        {
            Free(e);
            if (!e.Ahead) _head.Tell(new BlockAbandoned(rank, e.Request.Array, e.Request.Timestep)); // ahead: never announced
        }
    }

    /// <summary>A rank is gone: the slots it was writing go back to the pool.</summary>
    public void AbandonRank(int rank) => Post(() =>
    {
        foreach (var e in _entries.Values.Where(e => !e.Committed && e.Request.Rank == rank).ToList()) Free(e);
    });

    /// <summary>
    /// A view of a committed block for a reader in this process (a task of the analytics that
    /// runs on this node): one more lease, given back with <see cref="Release"/>, and where the
    /// block lies. Fails if the block is gone (its head's lease ended and no view holds it).
    /// </summary>
    public Task<(nint Address, long NBytes)> ViewAsync(long slotId) => Ask(() =>
    {
        if (_shutDown || !_entries.TryGetValue(slotId, out var e) || !e.Committed || e.Leases <= 0)
            throw DeisaException.State($"block {slotId} is no longer held by this node (no window holds its timestep any more)");
        e.Leases++;
        return (e.Slot.Segment.Address + (nint)e.Slot.Offset, e.Slot.NBytes);
    });

    /// <summary>One more holder of a block (e.g. a second view handed out).</summary>
    public void AddLease(long slotId) => Post(() =>
    {
        if (_entries.TryGetValue(slotId, out var e)) e.Leases++;
    });

    /// <summary>A holder of a block is done with it; at zero leases the slot returns to the pool.</summary>
    public void Release(long slotId) => Post(() =>
    {
        if (_entries.TryGetValue(slotId, out var e) && e.Committed && --e.Leases <= 0) Free(e);
    });

    /// <summary>The pool's state now.</summary>
    public Task<PoolUsage> UsageAsync() => Ask(() =>
        new PoolUsage(_pool.Budget, _pool.Allocated, _pool.InUse, _pool.SegmentCount, _entries.Count, _waiters.Count));

    private void Free(Entry e)
    {
        _entries.Remove(e.Slot.Id);
        if (_shutDown) e.Slot.Segment.Dispose();
        else
        {
            _pool.Return(e.Slot);
            ServeWaiters();
        }
    }

    /// <summary>
    /// End of the run: fails waiting requests, removes every segment file; segments still read
    /// by live views stay mapped until their last lease goes.
    /// </summary>
    public async Task ShutdownAsync()
    {
        // Segments being created for a reservation are discarded as they arrive: wait for them,
        // so that nothing of the run is left in /dev/shm when this returns.
        await Ask(() => { _shutDown = true; }).ConfigureAwait(false); // no reservation starts after this
        Task[] reserving;
        lock (_reservations) reserving = _reservations.ToArray();
        await Task.WhenAll(reserving).ConfigureAwait(false);
        await ShutdownLoopAsync().ConfigureAwait(false);
    }

    private Task ShutdownLoopAsync() => Ask(() =>
    {
        _shutDown = true;
        foreach (var w in _waiters) w.Completion.TrySetException(new DeisaException(DeisaStatus.AnalyticsLost, "the analytics has finished"));
        _waiters.Clear();
        _pool.Dispose();
        foreach (var e in _entries.Values.ToList())
        {
            e.Slot.Segment.Unlink();
            if (!e.Committed || e.Leases <= 0) Free(e);
        }
    });
}
