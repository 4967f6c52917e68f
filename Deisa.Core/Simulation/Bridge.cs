using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using Deisa.Model;
using Deisa.Protocol;
using Deisa.Protocol.Messages;
using Deisa.Server;
using Deisa.SharedMemory;

namespace Deisa.Simulation;

/// <summary>
/// One simulation rank's bridge to the analytics (SPEC §3): declare the arrays this rank owns
/// a block of, then every timestep <see cref="Send"/> the blocks; read feedback with
/// <see cref="GetFeedback"/>; <see cref="Close"/> at the end. Sends copy the block once into
/// the node's shared memory; <see cref="Acquire"/> gives a buffer already in shared memory.
/// Calls are serialized: one rank, one bridge.
/// </summary>
public sealed class Bridge : IDisposable
{
    private sealed class ArrayState(BlockDeclaration decl)
    {
        public BlockDeclaration Decl { get; } = decl;
        public byte[] NameUtf8 { get; } = System.Text.Encoding.UTF8.GetBytes(decl.Array); // as small sends carry it
        public DType DType = decl.DType;
        public long? LastTimestep;
    }

    private readonly object _lock = new();
    private readonly BridgeOptions _options;
    private readonly Dictionary<string, ArrayState> _arrays = new(StringComparer.Ordinal);
    private readonly SegmentCache _segments = new();
    private readonly HashSet<BlockBuffer> _openBuffers = new();
    private ControlClient? _client;
    private BlockChannel? _blocks; // the calls of every send, when the analytics offers the channel
    private AsyncServerStreamingCall<Notice>? _attach;
    private long? _lastTimestep;
    private bool _connected, _closed, _lost, _warned;

    private Bridge(BridgeOptions options) => _options = options;

    /// <summary>Creates the bridge of one rank; nothing is connected yet.</summary>
    public static Bridge Open(BridgeOptions options)
    {
        if (options.WorldSize < 1) throw DeisaException.Value($"world size must be at least 1 (got {options.WorldSize})");
        if (options.Rank < 0 || options.Rank >= options.WorldSize)
            throw DeisaException.Value($"rank {options.Rank} is outside the world of size {options.WorldSize}");
        if (options.Timeout <= TimeSpan.Zero) throw DeisaException.Value($"timeout must be positive (got {options.Timeout.TotalSeconds} s)");
        return new Bridge(options);
    }

    /// <summary>This bridge's rank.</summary>
    public int Rank => _options.Rank;

    /// <summary>True once the analytics went away.</summary>
    public bool AnalyticsLost => _lost;

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
            if (_arrays.ContainsKey(name)) throw DeisaException.Value($"array '{name}' is declared twice");
            _arrays[name] = new ArrayState(d);
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
        var deadline = DateTime.UtcNow + _options.Timeout;
        var (address, token) = FindAnalytics(deadline);
        _client = new ControlClient(address, token);
        _blocks = BlockChannel.TryConnect(address, token, Rank);
        // Attach before registering: from now on the head learns of this rank's death, even
        // while the registration waits for the other ranks.
        _attach = _client.Client.Attach(new AttachRequest { Rank = Rank }, _client.Headers);
        _client.Call((_, _) => _attach.ResponseStream.MoveNext(CancellationToken.None).GetAwaiter().GetResult());
        _ = WatchAnalyticsAsync(_attach);
        var request = new RegisterRequest
        {
            Rank = Rank, WorldSize = _options.WorldSize, Pid = Environment.ProcessId, Host = Environment.MachineName,
            TimeoutMs = Math.Max(1, (long)(deadline - DateTime.UtcNow).TotalMilliseconds),
        };
        foreach (var a in _arrays.Values)
        {
            var w = new ArrayDeclaration { Name = a.Decl.Array, Dtype = (int)a.Decl.DType, Order = (int)a.Decl.Order };
            w.GlobalShape.AddRange(a.Decl.GlobalShape);
            w.ChunkShape.AddRange(a.Decl.ChunkShape);
            w.ChunkPosition.AddRange(a.Decl.Position);
            request.Arrays.Add(w);
        }
        RegisterReply reply;
        try { reply = _client.Call((c, h) => c.Register(request, h)); }
        catch (DeisaException e) when (e.Status == DeisaStatus.AnalyticsLost && _options.OnAnalyticsFailure == AnalyticsFailurePolicy.Warn)
        {
            // The analytics went away while the ranks registered: the simulation goes on alone.
            _lost = true;
            _lostReason = e.Message;
            _connected = true;
            LostNoOp();
            return;
        }
        foreach (var (name, dtype) in reply.Dtypes)
            if (_arrays.TryGetValue(name, out var a) && a.DType == DType.Undeclared) a.DType = (DType)dtype;
        _connected = true;
    }

    private (string Address, string Token) FindAnalytics(DateTime deadline)
    {
        var rendezvous = new Rendezvous(_options.RendezvousDirectory);
        var token = Environment.GetEnvironmentVariable("DEISA_TOKEN");
        while (true)
        {
            var info = rendezvous.TryReadLive();
            if (info is not null && (_options.Address is null || _options.Address == info.Address))
                return (info.Address, info.Token);
            if (_options.Address is not null && !string.IsNullOrEmpty(token)) return (_options.Address, token);
            if (DateTime.UtcNow >= deadline)
                throw DeisaException.Timeout(
                    $"rank {Rank} waited {_options.Timeout.TotalSeconds:0.#} s for the analytics: no live analytics in {rendezvous.FilePath} " +
                    "(start the analytics from the same directory, or set DEISA_RENDEZVOUS)");
            Thread.Sleep(50);
        }
    }

    private async Task WatchAnalyticsAsync(AsyncServerStreamingCall<Notice> call)
    {
        try { while (await call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false)) { } }
        catch (Exception) { }
        if (!_closed) _lost = true;
    }

    /// <summary>Sends this rank's block of <paramref name="array"/> at timestep <paramref name="t"/> (one copy).</summary>
    public void Send<T>(string array, ReadOnlySpan<T> block, long t) where T : unmanaged
    {
        var dtype = DTypes.Of<T>();
        lock (_lock)
        {
            var a = Check(array, t, dtype, block.Length);
            SendBytes(a, MemoryMarshal.AsBytes(block), dtype, a.Decl.ChunkShape, a.Decl.Order, t);
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
    public void Send<T>(string array, scoped in System.Numerics.Tensors.ReadOnlyTensorSpan<T> block, long t) where T : unmanaged
    {
        MemoryOrder order;
        lock (_lock)
        {
            if (_closed) throw DeisaException.State($"rank {Rank}: send of '{array}' after the bridge was closed");
            if (!_arrays.TryGetValue(array, out var st)) throw Undeclared(array);
            if (!ElementStrides.SameShape(block.Lengths, st.Decl.ChunkShape))
                throw DeisaException.Value($"array '{array}': block shape {ElementStrides.Format(block.Lengths)} does not match chunk_shape {Shape.Format(st.Decl.ChunkShape)}");
            order = st.Decl.Order;
        }
        if (ElementStrides.IsContiguous(block.Lengths, block.Strides, order))
        {
            // Already in the declared layout: its memory is the block, one copy as for a span.
            var dense = MemoryMarshal.CreateReadOnlySpan(in block.GetPinnableReference(), checked((int)block.FlattenedLength));
            Send(array, dense, t);
            return;
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
            if (!_arrays.TryGetValue(array, out var st)) throw Undeclared(array);
            if (!shape.SequenceEqual(st.Decl.ChunkShape))
                throw DeisaException.Value($"array '{array}': block shape {Shape.Format(shape.ToArray())} does not match chunk_shape {Shape.Format(st.Decl.ChunkShape)}");
            if (!DTypes.IsDefined(dtype)) throw DeisaException.Type($"array '{array}': unknown dtype code {(int)dtype}");
            var a = Check(array, t, dtype, block.Length / DTypes.ItemSize(dtype));
            if (block.Length != Shape.Count(a.Decl.ChunkShape) * DTypes.ItemSize(dtype))
                throw DeisaException.Value($"array '{array}': block of {block.Length} bytes, expected {Shape.Count(a.Decl.ChunkShape) * DTypes.ItemSize(dtype)} for shape {Shape.Format(a.Decl.ChunkShape)} of {DTypes.NumpyName(dtype)}");
            SendBytes(a, block, dtype, a.Decl.ChunkShape, order, t);
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
            if (!_arrays.TryGetValue(array, out var st)) throw Undeclared(array);
            if (dtype == DType.Undeclared) dtype = st.DType;
            if (dtype == DType.Undeclared) throw DeisaException.Type($"array '{array}' has no declared dtype: give one to acquire a buffer");
            var a = Check(array, t, dtype, Shape.Count(st.Decl.ChunkShape));
            long nbytes = Shape.Count(a.Decl.ChunkShape) * DTypes.ItemSize(dtype);
            var reply = AcquireSlot(a, t, dtype, a.Decl.ChunkShape, a.Decl.Order, nbytes);
            if (reply is null || MapSegment(reply) is not { } seg) return NoOpBuffer(a, t, dtype, nbytes);
            var buffer = new BlockBuffer(this, array, t, reply.Slot, seg.Address + (nint)reply.Offset, nbytes, dtype, a.Decl.ChunkShape, a.Decl.Order);
            _openBuffers.Add(buffer);
            return buffer;
        }
    }

    private unsafe BlockBuffer NoOpBuffer(ArrayState a, long t, DType dtype, long nbytes)
    {
        // The analytics is gone and sends are no-ops: give the simulation scratch memory to write.
        var scratch = NativeMemory.AllocZeroed((nuint)Math.Max(1, nbytes));
        return new BlockBuffer(this, a.Decl.Array, t, -1, (nint)scratch, nbytes, dtype, a.Decl.ChunkShape, a.Decl.Order);
    }

    internal void CommitBuffer(BlockBuffer buffer, bool abandon)
    {
        lock (_lock)
        {
            _openBuffers.Remove(buffer);
            if (abandon && _arrays.TryGetValue(buffer.Array, out var a) && a.LastTimestep == buffer.Timestep)
                a.LastTimestep = null; // nothing was sent: the same (array, timestep) may be sent again
            if (buffer.Slot < 0) { FreeScratch(buffer.Address); return; }
            CommitSlot(buffer.Slot, abandon);
        }
    }

    private static unsafe void FreeScratch(nint address) => NativeMemory.Free((void*)address);

    private ArrayState Check(string array, long t, DType dtype, long count)
    {
        if (_closed) throw DeisaException.State($"rank {Rank}: send of '{array}' after the bridge was closed");
        if (!_arrays.TryGetValue(array, out var a)) throw Undeclared(array);
        if (a.DType != DType.Undeclared && a.DType != dtype)
            throw DeisaException.Type($"array '{array}' has dtype {DTypes.NumpyName(a.DType)}, the block is {DTypes.NumpyName(dtype)}");
        if (count != Shape.Count(a.Decl.ChunkShape))
            throw DeisaException.Value($"array '{array}': block of {count} elements, expected {Shape.Count(a.Decl.ChunkShape)} for chunk_shape {Shape.Format(a.Decl.ChunkShape)}");
        // An open buffer keeps its timestep open: moving on before committing it would make
        // the timestep wait for a block that waits for the next timestep.
        foreach (var open in _openBuffers)
            if (open.Timestep < t)
                throw DeisaException.State($"rank {Rank}: commit or abandon the buffer of '{open.Array}' at timestep {open.Timestep} before sending timestep {t}");
        if (_lastTimestep is { } last && t < last)
            throw DeisaException.Value($"rank {Rank}: timestep {t} is older than timestep {last} already sent (timesteps must not decrease)");
        if (a.LastTimestep == t)
            throw DeisaException.Value($"rank {Rank}: array '{array}' was already sent at timestep {t}");
        return a;
    }

    private DeisaException Undeclared(string array) =>
        DeisaException.Contract($"array '{array}' was not declared by rank {Rank}; declared arrays: [{string.Join(", ", _arrays.Keys.Select(k => $"'{k}'"))}]");

    /// <summary>Blocks up to this size travel inside the send call: one round trip instead of
    /// two (acquire, commit), and the copy into shared memory is the analytics'.</summary>
    internal const int InlineBlockBytes = 64 * 1024;

    private void SendBytes(ArrayState a, ReadOnlySpan<byte> block, DType dtype, long[] shape, MemoryOrder order, long t)
    {
        if (block.Length <= InlineBlockBytes)
        {
            SendInline(a, block, dtype, shape, order, t);
            return;
        }
        var reply = AcquireSlot(a, t, dtype, shape, order, block.Length);
        if (reply is null || MapSegment(reply) is not { } seg) return;
        bool copied = false;
        try
        {
            block.CopyTo(seg.Slice(reply.Offset, block.Length));
            copied = true;
        }
        finally
        {
            var slot = reply.Slot;
            CommitSlot(slot, abandon: !copied);
            if (!copied) a.LastTimestep = null; // nothing was sent: the block may be sent again
        }
    }

    /// <summary>A small block in one call: on the block channel its bytes go straight into the
    /// frame (on gRPC, into the call's message).</summary>
    private void SendInline(ArrayState a, ReadOnlySpan<byte> block, DType dtype, long[] shape, MemoryOrder order, long t)
    {
        ConnectLocked();
        if (_lost || _blocks is not { } ch)
        {
            AcquireSlot(a, t, dtype, shape, order, block.Length, ByteString.CopyFrom(block));
            return;
        }
        AcquireBlockReply? reply = null;
        try
        {
            reply = ch.Send(Rank, a.NameUtf8, t, dtype, shape, order, (long)_options.Timeout.TotalMilliseconds, _segments.RetiredSeen, block);
        }
        catch (DeisaException e) when (e.Status == DeisaStatus.AnalyticsLost)
        {
            _lost = true;
            _lostReason = e.Message;
            LostNoOp();
        }
        a.LastTimestep = t;
        _lastTimestep = t;
        if (reply is not null) _segments.Retire(reply.RetiredSegments, reply.RetireAll, reply.Segment, reply.RetiredSeq);
    }

    private void CommitSlot(long slot, bool abandon)
    {
        var request = new CommitBlockRequest { Rank = Rank, Slot = slot, Abandon = abandon };
        Guard(() =>
        {
            if (_blocks is { } ch) ch.Post(BlockFrame.Commit, request); // its failure answers the next call
            else _client!.Call((c, h) => c.CommitBlock(request, h));
        });
    }

    /// <summary>
    /// Announces the send and gets a slot; null when the analytics is gone (no-op send). With
    /// <paramref name="inline"/>, the block travels in the call and is committed with it.
    /// </summary>
    private AcquireBlockReply? AcquireSlot(ArrayState a, long t, DType dtype, long[] shape, MemoryOrder order, long nbytes,
        ByteString? inline = null)
    {
        ConnectLocked();
        if (_lost) { LostNoOp(); a.LastTimestep = t; _lastTimestep = t; return null; }
        var request = SlotRequest(a, t, dtype, shape, order, nbytes);
        var send = inline is null ? null : new SendBlockRequest { Block = request, Data = inline };
        AcquireBlockReply? reply = null;
        Guard(() => reply = (_blocks, send) switch
        {
            ({ } ch, null) => ch.Call(BlockFrame.Acquire, request, AcquireBlockReply.Parser),
            (null, null) => _client!.Call((c, h) => c.AcquireBlock(request, h)),
            (_, { } s) => _client!.Call((c, h) => c.SendBlock(s, h)), // no block channel: SendInline takes it when there is one
        });
        a.LastTimestep = t;
        _lastTimestep = t;
        if (reply is null) return null;
        _segments.Retire(reply.RetiredSegments, reply.RetireAll, reply.Segment, reply.RetiredSeq);
        return reply;
    }

    private AcquireBlockRequest SlotRequest(ArrayState a, long t, DType dtype, long[] shape, MemoryOrder order, long nbytes)
    {
        var request = new AcquireBlockRequest
        {
            Rank = Rank, Array = a.Decl.Array, Timestep = t, Dtype = (int)dtype, Order = (int)order, Nbytes = nbytes,
            TimeoutMs = (long)_options.Timeout.TotalMilliseconds, RetiredSeen = _segments.RetiredSeen,
        };
        request.Shape.AddRange(shape);
        return request;
    }

    /// <summary>The segment of a granted slot, mapped; null when the analytics ended (and removed
    /// its shared memory) since it granted the slot: the failure policy applies as for a call.</summary>
    private Segment? MapSegment(AcquireBlockReply reply)
    {
        Segment? seg = null;
        Guard(() => seg = _segments.Get(reply.Segment, reply.SegmentSize));
        return seg;
    }

    /// <summary>Runs a call; if the analytics is gone, applies the failure policy.</summary>
    private void Guard(Action call)
    {
        if (_lost) { LostNoOp(); return; }
        try { call(); }
        catch (DeisaException e) when (e.Status == DeisaStatus.AnalyticsLost)
        {
            _lost = true;
            _lostReason = e.Message;
            LostNoOp();
        }
    }

    private string? _lostReason;

    private void LostNoOp()
    {
        var why = _lostReason ?? "the analytics has stopped";
        if (_options.OnAnalyticsFailure == AnalyticsFailurePolicy.Raise)
            throw new DeisaException(DeisaStatus.AnalyticsLost, $"rank {Rank}: {why}");
        if (!_warned)
        {
            _warned = true;
            Console.Error.WriteLine($"deisa: warning: rank {Rank}: {why}; the simulation continues and sends are ignored");
        }
    }

    /// <summary>
    /// Feedback from the analytics for (key, timestep), or the retained entries for key when
    /// <paramref name="t"/> is null; null when there is none. Every rank asking the same
    /// question gets the same answer.
    /// </summary>
    public FeedbackAnswer? GetFeedback(string key, long? t)
    {
        if (string.IsNullOrEmpty(key)) throw DeisaException.Value("feedback key must be a non-empty string");
        lock (_lock)
        {
            if (_closed) throw DeisaException.State($"rank {Rank}: get after the bridge was closed");
            ConnectLocked();
            GetFeedbackReply? reply = null;
            var request = new GetFeedbackRequest { Rank = Rank, Key = key, HasTimestep = t is not null, Timestep = t ?? 0 };
            Guard(() => reply = _client!.Call((c, h) => c.GetFeedback(request, h)));
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
            if (_connected && !_lost)
            {
                // The block channel's commits before the close on gRPC, which could overtake them.
                if (_blocks is { } ch)
                    try { Guard(() => ch.Call(BlockFrame.Flush, new Empty(), Empty.Parser)); }
                    catch (DeisaException e) when (e.Status != DeisaStatus.AnalyticsLost) { failedCommit = e; }
                Guard(() => _client!.Call((c, h) => c.Close(new CloseRequest { Rank = Rank, HasTimestep = timestep is not null, Timestep = timestep ?? 0 }, h)));
            }
            _closed = true;
            _attach?.Dispose();
            _blocks?.Dispose();
            _segments.Dispose();
            _client?.Dispose();
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
