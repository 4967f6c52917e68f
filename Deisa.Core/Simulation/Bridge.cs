using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Deisa.Model;
using Deisa.Protocol;
using Deisa.Protocol.BlockFrames;
using Deisa.Protocol.Messages;
using Deisa.SharedMemory;

namespace Deisa.Simulation;

/// <summary>
/// One simulation rank's bridge to the analytics (docs/specification.md §3): declare the
/// arrays this rank owns a block of, then every timestep <see cref="Send{T}(string, ReadOnlySpan{T}, long)"/>
/// the blocks; read feedback with <see cref="GetFeedback"/>; <see cref="Close"/> at the end.
/// Sends copy the block once into the node's shared memory; <see cref="Acquire"/> gives a
/// buffer already in shared memory. Calls are serialized: one rank, one bridge.
/// </summary>
/// <remarks>
/// The analytics checks every send (the block's shape, dtype and size, the timestep order):
/// the rules live there once, and a refusal comes back as its <see cref="DeisaException"/>.
/// The bridge checks only what it alone knows: its own declarations and open buffers.
/// </remarks>
public sealed class Bridge : IDisposable
{
    /// <summary>Blocks up to this size travel inside the send call: one round trip instead of
    /// two (acquire, commit), and the copy into shared memory is the analytics'.</summary>
    internal const int InlineBlockBytes = 64 * 1024;

    private readonly object _lock = new();
    private readonly BridgeOptions _options;
    private readonly Dictionary<string, DeclaredArray> _arrays = new(StringComparer.Ordinal);
    private readonly HashSet<BlockBuffer> _openBuffers = new();
    private SegmentCache _segments = new();
    private AnalyticsLink _link; // replaced when a new analytics takes over (policy Wait)
    private bool _connected, _closed; // under _lock
    private readonly HeldBlocks? _held; // policy Wait: the blocks a new analytics would get
    private Task<(AnalyticsLink Link, RegisterReply? Reply)>? _successor; // under _lock: the watch for a new analytics
    private AnalyticsLink? _registering; // the new analytics' link while it registers this rank
    private readonly CancellationTokenSource _stop = new(); // closed or interrupted: the watch ends
    private AdmissionBoard? _board; // the run's back-pressure, when this rank is on the analytics' node
    private long _lastTimestep = long.MinValue; // the newest timestep the analytics accepted a block of

    /// <summary>Blocks sent without waiting for an answer (admitted on the run's admission board).</summary>
    internal long PostedBlocks { get; private set; }

    /// <summary>Blocks written in a slot granted ahead (acquired without a call).</summary>
    internal long AheadBlocks { get; private set; }

    private Bridge(BridgeOptions options)
    {
        _options = options;
        _link = new AnalyticsLink(options.Rank, options.OnAnalyticsFailure);
        if (options.OnAnalyticsFailure == AnalyticsFailurePolicy.Wait) _held = new HeldBlocks();
    }

    /// <summary>Creates the bridge of one rank; nothing is connected yet.</summary>
    public static Bridge Open(BridgeOptions options)
    {
        World.Check(options.Rank, options.WorldSize);
        if (options.Timeout <= TimeSpan.Zero) throw DeisaException.Value($"timeout must be positive (got {options.Timeout.TotalSeconds} s)");
        return new Bridge(options);
    }

    /// <summary>This bridge's rank.</summary>
    public int Rank => _options.Rank;

    /// <summary>
    /// Ends the call this bridge is waiting in (for the analytics, its registration, a slot,
    /// feedback), from any thread — what a signal's handling does for Ctrl-C — and disconnects
    /// the bridge: the analytics sees this rank gone, and every later call fails with
    /// <see cref="DeisaStatus.Interrupted"/>; <see cref="Close"/> then does nothing.
    /// </summary>
    public void Interrupt()
    {
        _stop.Cancel();
        Volatile.Read(ref _link).Interrupt();
        Volatile.Read(ref _registering)?.Interrupt();
    }

    /// <summary>True once the analytics went away.</summary>
    public bool AnalyticsLost => _link.IsLost;

    /// <summary>Names of the declared arrays.</summary>
    public IReadOnlyCollection<string> ArrayNames { get { lock (_lock) return _arrays.Keys.ToList(); } }

    /// <summary>Declares this rank's block of an array (before <see cref="Connect"/>).</summary>
    public void DeclareArray(string name, long[] globalShape, long[] chunkShape, long[] position, DType dtype = DType.Undeclared, MemoryOrder order = MemoryOrder.C)
    {
        lock (_lock)
        {
            if (_connected) throw DeisaException.State($"array '{name}' declared after the bridge connected");
            if (_closed) throw DeisaException.State("the bridge is closed");
            var d = new BlockDeclaration(Rank, name, globalShape, chunkShape, position, dtype, order);
            d.Validate();
            if (_arrays.ContainsKey(name)) throw DeisaException.DeclaredTwice(Rank, name);
            _arrays[name] = new DeclaredArray(d);
        }
    }

    /// <summary>
    /// Finds the analytics and registers this rank; returns once every rank registered and the
    /// layouts are valid. Called by the first send if not called before.
    /// </summary>
    public void Connect()
    {
        lock (_lock) ConnectLocked();
    }

    private void ConnectLocked()
    {
        if (_connected) return;
        if (_closed) throw DeisaException.State("the bridge is closed");
        var reply = _link.Connect(_options, RegisterRequestOf(heldFrom: null), DateTime.UtcNow + _options.Timeout);
        _connected = true; // also when the analytics went away meanwhile: the simulation goes on alone
        if (reply is not null) Apply(reply);
    }

    private RegisterRequest RegisterRequestOf(long? heldFrom)
    {
        var request = new RegisterRequest
        {
            Rank = Rank, WorldSize = _options.WorldSize, Pid = Environment.ProcessId, Host = Environment.MachineName,
            HasHeld = heldFrom is not null, HeldFrom = heldFrom ?? 0,
        };
        foreach (var a in _arrays.Values)
        {
            var d = a.Declaration;
            var w = new ArrayDeclaration { Name = d.Array, Dtype = (int)d.DType, Order = (int)d.Order };
            w.GlobalShape.AddRange(d.GlobalShape);
            w.ChunkShape.AddRange(d.ChunkShape);
            w.ChunkPosition.AddRange(d.Position);
            request.Arrays.Add(w);
        }
        return request;
    }

    private void Apply(RegisterReply reply)
    {
        foreach (var (name, dtype) in reply.Dtypes)
            if (_arrays.TryGetValue(name, out var a) && a.DType == DType.Undeclared) a.DType = (DType)dtype;
        if (_held is not null) _held.Capacity = Math.Max(1, reply.MaxSimulationAhead);
        _board?.Dispose();
        _board = reply.AdmissionBoard.Length > 0 ? AdmissionBoard.Open(reply.AdmissionBoard) : null;
    }

    /// <summary>
    /// Under <see cref="AnalyticsFailurePolicy.Wait"/>, once the analytics was lost: watches the
    /// rendezvous directory for a new analytics (in the background: every rank registers with it
    /// whatever its simulation is doing), and once it registered this rank, takes it over and
    /// sends it the blocks held. Waits for it, up to the timeout, when the block of
    /// <paramref name="t"/> cannot be held without letting one go, or at close while blocks are held.
    /// </summary>
    private void Recover(long? t, bool closing = false)
    {
        if (_held is null || !_connected || !_link.IsLost) return;
        _successor ??= WatchForSuccessor(_link.Token, _held.From);
        bool mustWait = closing ? _held.From is not null : t is { } next && !_held.HasRoomFor(next);
        if (!_successor.IsCompleted)
        {
            if (!mustWait) return;
            bool came;
            try { came = ((Task)_successor).Wait((int)Math.Min(int.MaxValue, _options.Timeout.TotalMilliseconds), _stop.Token); }
            catch (OperationCanceledException) { _link.Guard(() => { }); throw; } // interrupted: Guard says so
            catch (AggregateException) { came = true; } // its failure is read below
            if (!came)
                throw DeisaException.Timeout(
                    $"rank {Rank}: {_link.LostReason}; no new analytics took over within {_options.Timeout.TotalSeconds:0.#} s " +
                    $"(on_analytics_failure='wait'): the blocks of timesteps {_held.From} to {_held.To} were not analysed");
        }
        var successor = _successor;
        _successor = null;
        if (successor.IsFaulted || successor.IsCanceled)
        {
            var e = successor.Exception?.InnerException;
            if (!mustWait) return; // watched again at the next call
            if (e is DeisaException d) throw new DeisaException(d.Status, $"rank {Rank}: a new analytics could not take over: {d.Message}", d);
            throw new DeisaException(DeisaStatus.AnalyticsLost, $"rank {Rank}: a new analytics could not take over: {e?.Message ?? "cancelled"}", e);
        }
        Adopt(successor.Result.Link, successor.Result.Reply);
    }

    private Task<(AnalyticsLink Link, RegisterReply? Reply)> WatchForSuccessor(string? lostToken, long? heldFrom)
    {
        var request = RegisterRequestOf(heldFrom);
        var stop = _stop.Token;
        return Task.Factory.StartNew(() =>
        {
            var rendezvous = new Rendezvous(_options.RendezvousDirectory);
            while (true)
            {
                stop.ThrowIfCancellationRequested();
                if (rendezvous.TryReadLive() is { } info && info.Token != lostToken)
                {
                    var link = new AnalyticsLink(Rank, _options.OnAnalyticsFailure);
                    Volatile.Write(ref _registering, link);
                    if (stop.IsCancellationRequested) link.Interrupt();
                    try { return (link, link.Connect(_options, request, DateTime.UtcNow + _options.Timeout)); }
                    catch
                    {
                        link.Dispose();
                        throw;
                    }
                    finally { Volatile.Write(ref _registering, null); }
                }
                stop.WaitHandle.WaitOne(100);
            }
        }, stop, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>The new analytics registered this rank: it replaces the lost one and gets the
    /// blocks held from the timestep every rank holds on (the reply's replay_from).</summary>
    private void Adopt(AnalyticsLink link, RegisterReply? reply)
    {
        var lost = _link;
        Volatile.Write(ref _link, link);
        lost.Dispose();
        _segments.Dispose(); // the lost run's segments: the new analytics removed them
        _segments = new SegmentCache();
        _board?.Dispose();
        _board = null;
        GiveBackAhead(tell: false); // the lost run's slots
        if (reply is null) return; // lost again while it registered: watched again at the next call
        Apply(reply);
        var held = _held!;
        held.DropBefore(reply.HasReplayFrom ? reply.ReplayFrom : long.MaxValue);
        if (held.From is { } from)
            Console.Error.WriteLine($"deisa: rank {Rank}: a new analytics took over; sending it the blocks of timesteps {from} to {held.To}");
        foreach (var b in held.Blocks.ToList())
            SendBytes(_arrays[b.Array], b.Data, b.DType, b.Shape, b.Order, b.Timestep, hold: false);
    }

    /// <summary>Sends this rank's block of <paramref name="array"/> at timestep <paramref name="t"/> (one copy).</summary>
    public void Send<T>(string array, ReadOnlySpan<T> block, long t) where T : unmanaged
    {
        var dtype = DTypes.Of<T>();
        lock (_lock)
        {
            var a = Sendable(array, t);
            SendBytes(a, MemoryMarshal.AsBytes(block), dtype, a.Declaration.ChunkShape, a.Declaration.Order, t);
        }
    }

    /// <summary>
    /// Sends this rank's block of <paramref name="array"/> at timestep <paramref name="t"/>, given
    /// as a tensor whose lengths are the declared chunk shape. Element [i, j, ...] of the tensor
    /// is the block's element (i, j, ...) whatever the tensor's strides: a tensor already laid out
    /// contiguously in the array's declared memory order (C, or Fortran for arrays declared with
    /// <see cref="MemoryOrder.Fortran"/>) is copied once into shared memory like a
    /// <see cref="ReadOnlySpan{T}"/>; any other tensor (a slice such as the interior of a field
    /// with a ghost frame, a transposed view, a broadcast) is copied element by element once,
    /// straight into the shared-memory buffer, in the declared order.
    /// </summary>
    /// <typeparam name="T">Element type; must match the array's declared dtype, if any.</typeparam>
    /// <param name="array">A declared array.</param>
    /// <param name="block">The block; its lengths must equal the declared chunk shape.</param>
    /// <param name="t">The timestep (non-decreasing over the bridge's sends).</param>
    /// <exception cref="DeisaException">Undeclared array (<see cref="DeisaStatus.Contract"/>),
    /// lengths other than the chunk shape (<see cref="DeisaStatus.Value"/>), another dtype
    /// (<see cref="DeisaStatus.Type"/>), and every error of <see cref="Send{T}(string, ReadOnlySpan{T}, long)"/>.</exception>
    public void Send<T>(string array, scoped in ReadOnlyTensorSpan<T> block, long t) where T : unmanaged
    {
        lock (_lock)
        {
            var a = Sendable(array, t);
            var d = a.Declaration;
            var lengths = new long[block.Rank];
            for (int i = 0; i < lengths.Length; i++) lengths[i] = block.Lengths[i];
            d.CheckShape(lengths);
            if (ElementStrides.IsContiguous(block.Lengths, block.Strides, d.Order))
            {
                // Already in the declared layout: its memory is the block, one copy as for a span.
                var dense = MemoryMarshal.CreateReadOnlySpan(in block.GetPinnableReference(), checked((int)block.FlattenedLength));
                SendBytes(a, MemoryMarshal.AsBytes(dense), DTypes.Of<T>(), d.ChunkShape, d.Order, t);
                return;
            }
        }
        using var buffer = Acquire(array, t, DTypes.Of<T>());
        block.CopyTo(buffer.AsTensorSpan<T>());
        buffer.Commit();
    }

    /// <summary>Sends a block given as bytes with its dtype, shape and memory order (the C ABI's send).</summary>
    public void Send(string array, ReadOnlySpan<byte> block, DType dtype, ReadOnlySpan<long> shape, MemoryOrder order, long t)
    {
        lock (_lock)
        {
            var a = Sendable(array, t);
            SendBytes(a, block, dtype, shape, order, t);
        }
    }

    /// <summary>
    /// A buffer in shared memory for this rank's block at <paramref name="t"/>: write it, then
    /// commit (zero-copy send). <paramref name="dtype"/> may be omitted if the array declared one.
    /// </summary>
    public BlockBuffer Acquire(string array, long t, DType dtype = DType.Undeclared)
    {
        lock (_lock)
        {
            var a = Sendable(array, t);
            if (dtype == DType.Undeclared) dtype = a.DType;
            if (dtype == DType.Undeclared) throw DeisaException.Type($"array '{array}' has no declared dtype: give one to acquire a buffer");
            DTypes.CheckDefined(dtype, array);
            var d = a.Declaration;
            long nbytes = d.BlockBytes(dtype);
            if (_held is not null && nbytes > Array.MaxLength)
                throw DeisaException.Value($"rank {Rank}: the block of '{array}' ({nbytes} bytes) is too large to be kept for a new analytics (on_analytics_failure='wait' keeps blocks under 2 GiB)");
            BlockBuffer buffer;
            if (TryAcquireAhead(a, t, dtype, d.ChunkShape, d.Order, nbytes) is { } ahead)
                buffer = new BlockBuffer(this, array, t, ahead.Slot, ahead.Address, nbytes, dtype, d.ChunkShape, d.Order) { Ahead = true, Ticketed = ahead.Ticketed };
            else
            {
                var slot = AcquireSlot(a, t, dtype, d.ChunkShape, d.Order, nbytes);
                if (slot is null || MapSegment(slot) is not { } seg) return NoOpBuffer(a, t, dtype, nbytes);
                buffer = new BlockBuffer(this, array, t, slot.Slot, seg.Address + (nint)slot.Offset, nbytes, dtype, d.ChunkShape, d.Order);
            }
            _openBuffers.Add(buffer);
            return buffer;
        }
    }

    private unsafe BlockBuffer NoOpBuffer(DeclaredArray a, long t, DType dtype, long nbytes)
    {
        // The analytics is gone and sends are no-ops: give the simulation scratch memory to write.
        var scratch = NativeMemory.AllocZeroed((nuint)Math.Max(1, nbytes));
        var d = a.Declaration;
        return new BlockBuffer(this, d.Array, t, -1, (nint)scratch, nbytes, dtype, d.ChunkShape, d.Order);
    }

    internal unsafe void CommitBuffer(BlockBuffer buffer, bool abandon)
    {
        lock (_lock)
        {
            _openBuffers.Remove(buffer);
            if (!abandon)
                _held?.Add(buffer.Array, buffer.Timestep, buffer.DType, buffer.Shape, buffer.Order,
                    new ReadOnlySpan<byte>((void*)buffer.Address, checked((int)buffer.NBytes)));
            if (buffer.Slot < 0) { FreeScratch(buffer.Address); return; }
            var a = _arrays[buffer.Array];
            if (buffer.Ahead) CommitAhead(a, buffer.Slot, buffer.Timestep, buffer.DType, buffer.Shape, buffer.Order, buffer.NBytes, buffer.Ticketed, abandon);
            else CommitSlot(buffer.Slot, abandon);
            if (!abandon) Sent(a, buffer.Timestep);
        }
    }

    private static unsafe void FreeScratch(nint address) => NativeMemory.Free((void*)address);

    /// <summary>The declared array a send of timestep <paramref name="t"/> may go to: the bridge is
    /// open, the array declared, and no buffer of an earlier timestep is still open.</summary>
    private DeclaredArray Sendable(string array, long t)
    {
        if (_closed) throw DeisaException.State($"rank {Rank}: send of '{array}' after the bridge was closed");
        if (!_arrays.TryGetValue(array, out var a)) throw DeisaException.Undeclared(Rank, array, _arrays.Keys);
        // An open buffer keeps its timestep open: moving on before committing it would make
        // the timestep wait for a block that waits for the next timestep.
        foreach (var open in _openBuffers)
            if (open.Timestep < t)
                throw DeisaException.State($"rank {Rank}: commit or abandon the buffer of '{open.Array}' at timestep {open.Timestep} before sending timestep {t}");
        Recover(t);
        return a;
    }

    /// <summary>Sends a block; with <paramref name="hold"/> (policy Wait), keeps a copy of it once
    /// the analytics took it or was lost (a refused block is not kept).</summary>
    private void SendBytes(DeclaredArray a, ReadOnlySpan<byte> block, DType dtype, ReadOnlySpan<long> shape, MemoryOrder order, long t, bool hold = true)
    {
        DeliverBytes(a, block, dtype, shape, order, t);
        if (hold) _held?.Add(a.Declaration.Array, t, dtype, shape, order, block);
    }

    private void DeliverBytes(DeclaredArray a, ReadOnlySpan<byte> block, DType dtype, ReadOnlySpan<long> shape, MemoryOrder order, long t)
    {
        if (block.Length <= InlineBlockBytes)
        {
            if (!TryPost(a, block, dtype, shape, order, t)) SendInline(a, block, dtype, shape, order, t);
            Sent(a, t);
            return;
        }
        if (TryAcquireAhead(a, t, dtype, shape, order, block.Length) is { } ahead)
        {
            bool written = false;
            try
            {
                unsafe { block.CopyTo(new Span<byte>((void*)ahead.Address, block.Length)); }
                written = true;
            }
            finally
            {
                CommitAhead(a, ahead.Slot, t, dtype, shape.ToArray(), order, block.Length, ahead.Ticketed, abandon: !written);
            }
            Sent(a, t);
            return;
        }
        var slot = AcquireSlot(a, t, dtype, shape, order, block.Length);
        if (slot is null || MapSegment(slot) is not { } seg) return;
        bool copied = false;
        try
        {
            block.CopyTo(seg.Slice(slot.Offset, block.Length));
            copied = true;
        }
        finally
        {
            CommitSlot(slot.Slot, abandon: !copied);
        }
        Sent(a, t);
    }

    /// <summary>The analytics accepted the block of <paramref name="a"/> at <paramref name="t"/>.</summary>
    private void Sent(DeclaredArray a, long t)
    {
        a.LastSent = Math.Max(a.LastSent, t);
        _lastTimestep = Math.Max(_lastTimestep, t);
    }

    /// <summary>
    /// A small block sent without waiting for the analytics, when the rank can tell it is
    /// accepted: on the analytics' node, its timestep admitted on the run's admission board
    /// (back-pressure decided here, exactly as the head would), and the block as declared.
    /// False when it must be sent with an answer (which then says why it waits, or the error).
    /// </summary>
    private bool TryPost(DeclaredArray a, ReadOnlySpan<byte> block, DType dtype, ReadOnlySpan<long> shape, MemoryOrder order, long t)
    {
        ConnectLocked();
        if (_board is not { } board || !_link.IsOpen || !a.Accepts(dtype, shape, order, block.Length, t, _lastTimestep)
            || !board.TryAdmit(t, out bool ticketed))
            return false;
        try
        {
            _link.Blocks.Post(a.NameUtf8, t, dtype, shape, order, TimeoutMs, block, ticketed);
            PostedBlocks++;
        }
        catch (DeisaException e) when (e.Status == DeisaStatus.AnalyticsLost)
        {
            _link.Lose(e.Message);
            _link.Guard(() => { }); // the failure policy: a no-op send, or the error
        }
        return true;
    }

    /// <summary>A small block in one call: its bytes go straight into the block channel's frame.</summary>
    private void SendInline(DeclaredArray a, ReadOnlySpan<byte> block, DType dtype, ReadOnlySpan<long> shape, MemoryOrder order, long t)
    {
        ConnectLocked();
        SlotFrame? slot = null;
        // A span cannot be captured by the guard's lambda: the call is guarded by hand.
        if (!_link.IsLost)
            try { slot = _link.Blocks.Send(a.NameUtf8, t, dtype, shape, order, TimeoutMs, _segments.RetiredSeen, block); }
            catch (DeisaException e) when (e.Status == DeisaStatus.AnalyticsLost) { _link.Lose(e.Message); }
        if (slot is null) _link.Guard(() => { });
        else _segments.Retire(slot);
    }

    /// <summary>Where a block goes that is written in a slot granted ahead.</summary>
    private readonly record struct AheadSlot(long Slot, nint Address, bool Ticketed);

    /// <summary>
    /// The slot granted ahead for this array's next block, when the rank can tell without a call
    /// that the block is accepted (as for <see cref="TryPost"/>) and the slot is as large; null
    /// when the block must be acquired with a call (which asks for the next slot ahead).
    /// </summary>
    private AheadSlot? TryAcquireAhead(DeclaredArray a, long t, DType dtype, ReadOnlySpan<long> shape, MemoryOrder order, long nbytes)
    {
        ConnectLocked();
        if (_board is not { } board || !_link.IsOpen) return null;
        TakeSpares();
        if (a.Ahead is not { } spare) return null;
        a.Ahead = null;
        if (spare.NBytes != nbytes || !a.Accepts(dtype, shape, order, nbytes, t, _lastTimestep) || !board.TryAdmit(t, out bool ticketed))
        {
            // The send asks the analytics (it may wait for back-pressure, then for memory): the
            // slot goes back first, so that a full pool has it for that send.
            CommitSlot(spare.Slot.Slot, abandon: true);
            return null;
        }
        if (MapSegment(spare.Slot) is not { } seg)
        {
            if (ticketed) board.ReturnTicket();
            return null;
        }
        AheadBlocks++;
        return new AheadSlot(spare.Slot.Slot, seg.Address + (nint)spare.Slot.Offset, ticketed);
    }

    /// <summary>Keeps the slots granted ahead that arrived, each with its array.</summary>
    private void TakeSpares()
    {
        IReadOnlyList<Protocol.BlockFrames.SpareFrame> spares = [];
        _link.Guard(() => spares = _link.Blocks.TakeSpares());
        foreach (var spare in spares)
        {
            _segments.Retire(spare.Slot);
            if (!_arrays.TryGetValue(spare.Array, out var a)) { CommitSlot(spare.Slot.Slot, abandon: true); continue; }
            if (a.Ahead is { } older) CommitSlot(older.Slot.Slot, abandon: true); // one ahead per array is enough
            a.Ahead = spare;
        }
    }

    /// <summary>The block written in a slot granted ahead is sent (or the slot given back), without
    /// waiting; a new slot ahead is asked for along.</summary>
    private void CommitAhead(DeclaredArray a, long slot, long t, DType dtype, long[] shape, MemoryOrder order, long nbytes, bool ticketed, bool abandon)
    {
        if (abandon)
        {
            if (ticketed) _board?.ReturnTicket(); // never announced: the ticket opened nothing
            CommitSlot(slot, abandon: true);
            return;
        }
        _link.Guard(() => _link.Blocks.CommitAhead(slot, a.NameUtf8, t, dtype, shape, order, nbytes, TimeoutMs, _segments.RetiredSeen,
            ticketed, wantsSpare: true));
    }

    /// <summary>Gives back every slot granted ahead (at close, or when the analytics changes).</summary>
    private void GiveBackAhead(bool tell)
    {
        foreach (var a in _arrays.Values)
            if (a.Ahead is { } spare)
            {
                a.Ahead = null;
                if (tell) CommitSlot(spare.Slot.Slot, abandon: true);
            }
    }

    private void CommitSlot(long slot, bool abandon) =>
        _link.Guard(() => _link.Blocks.Commit(slot, abandon)); // its failure answers the next call

    /// <summary>Announces the send and gets a slot; null when the analytics is gone (no-op send).</summary>
    private SlotFrame? AcquireSlot(DeclaredArray a, long t, DType dtype, ReadOnlySpan<long> shape, MemoryOrder order, long nbytes)
    {
        ConnectLocked();
        SlotFrame? slot = null;
        var shapeCopy = shape.ToArray();
        bool wantsSpare = _board is not null && a.Ahead is null; // the next block of the array then goes without a call
        _link.Guard(() => slot = _link.Blocks.Acquire(a.NameUtf8, t, dtype, shapeCopy, order, nbytes, TimeoutMs, _segments.RetiredSeen, wantsSpare));
        if (slot is not null)
        {
            _segments.Retire(slot);
            // The node may have granted the slot held ahead (its pool was full): it is no longer one.
            TakeSpares();
            foreach (var x in _arrays.Values)
                if (x.Ahead?.Slot.Slot == slot.Slot) x.Ahead = null;
        }
        return slot;
    }

    private long TimeoutMs => (long)_options.Timeout.TotalMilliseconds;

    /// <summary>The segment of a granted slot, mapped; null when the analytics ended (and removed
    /// its shared memory) since it granted the slot: the failure policy applies as for a call.</summary>
    private Segment? MapSegment(SlotFrame slot)
    {
        Segment? seg = null;
        _link.Guard(() => seg = _segments.Get(slot.Segment, slot.SegmentSize));
        return seg;
    }

    /// <summary>
    /// Feedback from the analytics for (key, timestep), or the retained entries for key when
    /// <paramref name="t"/> is null; null when there is none. Every rank asking the same
    /// question gets the same answer.
    /// </summary>
    public FeedbackAnswer? GetFeedback(string key, long? t)
    {
        lock (_lock)
        {
            if (_closed) throw DeisaException.State($"rank {Rank}: get after the bridge was closed");
            ConnectLocked();
            Recover(null);
            GetFeedbackReply? reply = null;
            var request = new GetFeedbackRequest { Rank = Rank, Key = key, HasTimestep = t is not null, Timestep = t ?? 0 };
            _link.Guard(() => reply = _link.Control.Call((c, h) => c.GetFeedback(request, h)));
            if (reply is null || !reply.Found) return null;
            if (t is not null) return new FeedbackAnswer(FromWire(reply.Value), null);
            return new FeedbackAnswer(null, reply.Entries.Select(e => (e.Timestep, FromWire(e.Value))).ToList());
        }
    }

    private static FeedbackValue FromWire(EncodedFeedback v) => new((FeedbackKind)v.Kind, v.Data.ToByteArray());

    /// <summary>Closes the bridge (idempotent): the analytics finishes once every rank closed.</summary>
    public void Close(long? timestep = null)
    {
        lock (_lock)
        {
            if (_closed) return;
            // Buffers still open are given back unsent: a timestep they hold open would never close.
            foreach (var open in _openBuffers.ToList())
                try { open.GiveBackAtClose(); }
                catch (DeisaException) { } // the analytics is gone: nothing to give back to
            DeisaException? failedCommit = null;
            // Blocks held for a new analytics go to it first (policy Wait).
            try { Recover(null, closing: true); }
            catch (DeisaException e) { failedCommit = e; }
            if (_connected && _link.IsOpen)
            {
                GiveBackAhead(tell: true);
                // The block channel's commits before the close on gRPC, which could overtake them.
                try { _link.Guard(() => _link.Blocks.Flush()); }
                catch (DeisaException e) when (e.Status != DeisaStatus.AnalyticsLost) { failedCommit ??= e; }
                var request = new CloseRequest { Rank = Rank, HasTimestep = timestep is not null, Timestep = timestep ?? 0 };
                _link.Guard(() => _link.Control.Call((c, h) => c.Close(request, h)));
            }
            _closed = true;
            _stop.Cancel();
            _link.Dispose();
            _segments.Dispose();
            if (failedCommit is not null) throw failedCommit; // closed all the same
        }
    }

    /// <summary>Closes the bridge.</summary>
    public void Dispose()
    {
        try { Close(); }
        catch (DeisaException) { }
    }
}
