using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using Grpc.Net.Client;
using Deisa.Engine.Messages;
using Deisa.Engine.Node;
using Deisa.Model;
using Deisa.Protocol;
using Deisa.Protocol.Messages;

namespace Deisa.Cluster;

/// <summary>
/// A node service's link to the head (deisa.proto, service Nodes): the head's admission of its
/// ranks' sends, the news of their blocks, and the head's orders (a block's release, a rank
/// gone). Reports that queue up leave in one message. The blocks of one array at one timestep
/// are reported together, in one message, once every rank of this node that holds one arrived
/// (the head says which, once every rank registered); a batch a rank leaves incomplete (it gave
/// up its block, it was lost, it skipped the timestep) goes as it is, at the latest after
/// <see cref="MaxHold"/>: the head keeps a timestep open while one of its sends is in flight.
/// </summary>
public sealed class NodeLink : IHeadInbox, IAdmission, IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly AsyncDuplexStreamingCall<NodeReport, HeadOrder> _call;
    private readonly Channel<NodeReport> _outbox = Channel.CreateUnbounded<NodeReport>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<long, TaskCompletionSource> _admissions = new();
    private readonly TaskCompletionSource<string> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly object _batchGate = new();
    private readonly Dictionary<(string Array, long T), Batch> _batches = new();
    private Dictionary<string, int>? _localRanks; // array -> how many of this node's ranks hold a block of it
    private NodeActor? _node;
    private long _nextId;

    /// <summary>Longest an incomplete batch of blocks is held before it is reported as it is, by default.</summary>
    public static readonly TimeSpan MaxHold = TimeSpan.FromMilliseconds(20);

    private readonly TimeSpan _maxHold;
    private long _reportsSent;

    /// <summary>Messages sent to the head so far (the hello excepted).</summary>
    public long ReportsSent => Interlocked.Read(ref _reportsSent);

    /// <summary>How many of this node's ranks hold a block of <paramref name="array"/>, as the head said (0 before it did).</summary>
    internal int LocalRanksOf(string array) { lock (_batchGate) return _localRanks?.GetValueOrDefault(array) ?? 0; }

    /// <summary>Batches of blocks held now, waiting for the rest of their ranks.</summary>
    public int HeldBatches { get { lock (_batchGate) return _batches.Count; } }

    private sealed class Batch(int expected)
    {
        public readonly NodeReport Report = new();
        public readonly long Started = System.Diagnostics.Stopwatch.GetTimestamp();
        public int Missing = expected;
    }
    private Task _loops = Task.CompletedTask;

    private NodeLink(GrpcChannel channel, AsyncDuplexStreamingCall<NodeReport, HeadOrder> call, int index, long poolBytes, TimeSpan maxHold)
    {
        _maxHold = maxHold;
        _channel = channel;
        _call = call;
        Index = index;
        PoolBytes = poolBytes;
    }

    /// <summary>This node's index in the run (the high bits of its blocks' leases).</summary>
    public int Index { get; }

    /// <summary>The pool every node of the run gets, as the head says.</summary>
    public long PoolBytes { get; }

    private readonly TaskCompletionSource _flightWanted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the analytics asks this node to serve its blocks to Arrow Flight clients.</summary>
    public Task FlightWanted => _flightWanted.Task;

    /// <summary>Tells the head where this node serves Arrow Flight.</summary>
    public void ReportFlight(string location)
    {
        if (!_ended.Task.IsCompleted) _outbox.Writer.TryWrite(new NodeReport { FlightLocation = location });
    }

    /// <summary>Completes, with the reason, when the link ended (the run's end or the head lost).</summary>
    public Task<string> Ended => _ended.Task;

    /// <summary>Connects to the head of <paramref name="run"/> and says who this node is.</summary>
    /// <remarks><paramref name="maxHold"/>: how long an incomplete batch of blocks may wait (default <see cref="MaxHold"/>).</remarks>
    public static async Task<NodeLink> ConnectAsync(RendezvousInfo run, string host, string worker, TimeSpan timeout, CancellationToken ct,
        TimeSpan? maxHold = null)
    {
        var channel = GrpcChannels.Open(run.Address);
        try
        {
            var call = new Nodes.NodesClient(channel).Link(new Metadata { { SessionHeaders.Token, run.Token } }, cancellationToken: ct);
            await call.RequestStream.WriteAsync(new NodeReport { Hello = new NodeHello { Host = host, Worker = worker, Pid = Environment.ProcessId } }, ct).ConfigureAwait(false);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            if (!await call.ResponseStream.MoveNext(cts.Token).ConfigureAwait(false) || call.ResponseStream.Current.Node <= 0)
                throw new DeisaException(DeisaStatus.AnalyticsLost, $"the analytics at {run.Address} did not welcome node {host}");
            var welcome = call.ResponseStream.Current;
            return new NodeLink(channel, call, welcome.Node, welcome.PoolBytes, maxHold ?? MaxHold);
        }
        catch (RpcException e)
        {
            channel.Dispose();
            throw StatusTrailer.FromRpc(e);
        }
        catch
        {
            channel.Dispose();
            throw;
        }
    }

    /// <summary>Starts serving the head's orders for <paramref name="node"/>, and reporting its pool (at once, then every second).</summary>
    public void Start(NodeActor node)
    {
        _node = node;
        _loops = Task.WhenAll(Task.Run(ReadOrdersAsync), Task.Run(WriteReportsAsync), Task.Run(ReportPoolAsync), Task.Run(FlushLateAsync));
    }

    // ---------------------------------------------------------------- IAdmission

    /// <inheritdoc/>
    public async Task AdmitAsync(BlockSend send, TimeSpan timeout, CancellationToken ct = default)
    {
        long id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _admissions[id] = answer;
        var report = new NodeReport();
        report.Admit.Add(ToWire(id, send, (long)Math.Min(timeout.TotalMilliseconds, long.MaxValue)));
        if (_ended.Task.IsCompleted || !_outbox.Writer.TryWrite(report)) Fail(answer);
        try { await answer.Task.WaitAsync(ct).ConfigureAwait(false); }
        finally { _admissions.TryRemove(id, out _); }
    }

    /// <inheritdoc/>
    public void Withdraw(int rank, string array, long t)
    {
        Flush(array, t); // the blocks of its batch go before it
        var report = new NodeReport();
        report.Withdrawn.Add(new RankArray { Rank = rank, Array = array, Timestep = t });
        _outbox.Writer.TryWrite(report);
    }

    // ---------------------------------------------------------------- IHeadInbox

    /// <inheritdoc/>
    public void Tell(HeadMessage message)
    {
        var report = new NodeReport();
        switch (message)
        {
            case BlockArrived b:
                var s = ToWire(0, new BlockSend(b.Rank, b.Array, b.Timestep, b.DType, b.Shape, b.Order, b.Location.NBytes), 0);
                s.Block = new NodeBlock { Slot = b.Location.Lease, Segment = b.Location.Segment, Offset = b.Location.Offset, Nbytes = b.Location.NBytes };
                if (Batched(b.Array, b.Timestep, s)) return;
                report.Arrived.Add(s);
                break;
            case BlockAbandoned a:
                Flush(a.Array, a.Timestep);
                report.Abandoned.Add(new RankArray { Rank = a.Rank, Array = a.Array, Timestep = a.Timestep });
                break;
            default: throw new ArgumentException($"the head does not handle {message.GetType().Name}", nameof(message));
        }
        _outbox.Writer.TryWrite(report);
    }

    /// <summary>Adds an arrival to its (array, timestep) batch; false if it is not batched (the
    /// head has not said which ranks hold the array, or one rank of this node does).</summary>
    private bool Batched(string array, long t, NodeSend arrival)
    {
        NodeReport? complete = null;
        lock (_batchGate)
        {
            if (_localRanks is null || !_localRanks.TryGetValue(array, out int expected) || expected <= 1) return false;
            if (!_batches.TryGetValue((array, t), out var batch)) _batches[(array, t)] = batch = new Batch(expected);
            batch.Report.Arrived.Add(arrival);
            if (--batch.Missing <= 0)
            {
                _batches.Remove((array, t));
                complete = batch.Report;
            }
        }
        if (complete is not null) _outbox.Writer.TryWrite(complete);
        return true;
    }

    /// <summary>Reports the batch of (array, t) as it is, if there is one.</summary>
    private void Flush(string array, long t)
    {
        Batch? batch;
        lock (_batchGate) _batches.Remove((array, t), out batch);
        if (batch is not null) _outbox.Writer.TryWrite(batch.Report);
    }

    /// <summary>Reports the batches held longer than <see cref="MaxHold"/> (every one with <paramref name="all"/>).</summary>
    private void FlushHeld(bool all)
    {
        List<NodeReport>? late = null;
        lock (_batchGate)
            foreach (var (key, batch) in _batches.ToList())
                if (all || System.Diagnostics.Stopwatch.GetElapsedTime(batch.Started) >= _maxHold)
                {
                    _batches.Remove(key);
                    (late ??= []).Add(batch.Report);
                }
        foreach (var r in late ?? []) _outbox.Writer.TryWrite(r);
    }

    private async Task FlushLateAsync()
    {
        using var timer = new PeriodicTimer(_maxHold < TimeSpan.FromSeconds(1) ? _maxHold / 2 : TimeSpan.FromMilliseconds(500));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                bool any;
                lock (_batchGate) any = _batches.Count > 0;
                if (any) FlushHeld(all: false);
            }
        }
        catch (OperationCanceledException) { }
    }

    private static NodeSend ToWire(long id, BlockSend send, long timeoutMs)
    {
        var s = new NodeSend
        {
            Id = id, Rank = send.Rank, Array = send.Array, Timestep = send.Timestep, Dtype = (int)send.DType,
            Order = (int)send.Order, Nbytes = send.NBytes, TimeoutMs = timeoutMs,
        };
        s.Shape.Add(send.Shape);
        return s;
    }

    // ---------------------------------------------------------------- the loops

    private async Task WriteReportsAsync()
    {
        try
        {
            var reader = _outbox.Reader;
            while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                var merged = new NodeReport();
                int n = 0;
                while (n < 4096 && reader.TryRead(out var r)) { merged.MergeFrom(r); n++; }
                await _call.RequestStream.WriteAsync(merged, _stop.Token).ConfigureAwait(false);
                Interlocked.Increment(ref _reportsSent);
            }
        }
        catch (Exception e) { End($"cannot report to the analytics: {e.Message}"); }
    }

    private async Task ReadOrdersAsync()
    {
        var node = _node!;
        try
        {
            while (await _call.ResponseStream.MoveNext(_stop.Token).ConfigureAwait(false))
            {
                var order = _call.ResponseStream.Current;
                foreach (var a in order.Admitted)
                    if (_admissions.TryGetValue(a.Id, out var answer))
                    {
                        if (a.Status == 0) answer.TrySetResult();
                        else answer.TrySetException(new DeisaException((DeisaStatus)a.Status, a.Message));
                    }
                // Holds first: merged orders lose their order, and a hold always comes before its release.
                foreach (var slot in order.Hold) node.AddLease(slot);
                foreach (var slot in order.Release) node.Release(slot);
                if (order.ServeFlight) _flightWanted.TrySetResult();
                if (order.Arrays.Count > 0)
                    lock (_batchGate) _localRanks = order.Arrays.ToDictionary(a => a.Array, a => a.Ranks.Count, StringComparer.Ordinal);
                if (order.RanksGone.Count > 0) FlushHeld(all: true); // a lost rank's batches will not complete
                foreach (var rank in order.RanksGone) node.Tell(new RankGone(rank));
                if (order.Reserve.Count > 0) node.Tell(new ReserveBlocks(order.Reserve.ToArray()));
                if (order.Stop) { End("the analytics has finished"); return; }
            }
            End("the analytics has finished");
        }
        catch (RpcException e) { End($"lost the analytics: {e.Status.Detail}"); }
        catch (Exception e) { End($"lost the analytics: {e.Message}"); }
    }

    private async Task ReportPoolAsync()
    {
        var node = _node!;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            do // at once, then every second
            {
                var p = await node.UsageAsync().ConfigureAwait(false);
                _outbox.Writer.TryWrite(new NodeReport
                {
                    Pool = new NodePool { Budget = p.Budget, Allocated = p.Allocated, InUse = p.InUse, Segments = p.Segments, Blocks = p.Blocks, WaitingSends = p.WaitingSends },
                });
            } while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false));
        }
        catch (Exception) { } // stopped, or the node shut down
    }

    private void End(string why)
    {
        FlushHeld(all: true);
        if (!_ended.TrySetResult(why)) return;
        _outbox.Writer.TryComplete();
        foreach (var answer in _admissions.Values) Fail(answer, why);
    }

    private static void Fail(TaskCompletionSource answer, string why = "the analytics has finished") =>
        answer.TrySetException(new DeisaException(DeisaStatus.AnalyticsLost, why));

    /// <summary>Ends the link (the head sees the run's end of this node).</summary>
    public async ValueTask DisposeAsync()
    {
        End("the node service stopped");
        try { await _call.RequestStream.CompleteAsync().ConfigureAwait(false); } catch (Exception) { }
        _stop.Cancel();
        try { await _loops.ConfigureAwait(false); } catch (Exception) { }
        _call.Dispose();
        _channel.Dispose();
    }
}
