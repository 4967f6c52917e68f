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
/// gone). Reports that queue up leave in one message: the ranks of a node sending one array at
/// one timestep are reported together when they commit together.
/// </summary>
public sealed class NodeLink : IHeadInbox, IAdmission, IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly AsyncDuplexStreamingCall<NodeReport, HeadOrder> _call;
    private readonly Channel<NodeReport> _outbox = Channel.CreateUnbounded<NodeReport>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<long, TaskCompletionSource> _admissions = new();
    private readonly TaskCompletionSource<string> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private NodeActor? _node;
    private long _nextId;
    private Task _loops = Task.CompletedTask;

    private NodeLink(GrpcChannel channel, AsyncDuplexStreamingCall<NodeReport, HeadOrder> call, int index, long poolBytes)
    {
        _channel = channel;
        _call = call;
        Index = index;
        PoolBytes = poolBytes;
    }

    /// <summary>This node's index in the run (the high bits of its blocks' leases).</summary>
    public int Index { get; }

    /// <summary>The pool every node of the run gets, as the head says.</summary>
    public long PoolBytes { get; }

    /// <summary>Completes, with the reason, when the link ended (the run's end or the head lost).</summary>
    public Task<string> Ended => _ended.Task;

    /// <summary>Connects to the head of <paramref name="run"/> and says who this node is.</summary>
    public static async Task<NodeLink> ConnectAsync(RendezvousInfo run, string host, string worker, TimeSpan timeout, CancellationToken ct)
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
            return new NodeLink(channel, call, welcome.Node, welcome.PoolBytes);
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
        _loops = Task.WhenAll(Task.Run(ReadOrdersAsync), Task.Run(WriteReportsAsync), Task.Run(ReportPoolAsync));
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
                report.Arrived.Add(s);
                break;
            case BlockAbandoned a:
                report.Abandoned.Add(new RankArray { Rank = a.Rank, Array = a.Array, Timestep = a.Timestep });
                break;
            default: throw new ArgumentException($"the head does not handle {message.GetType().Name}", nameof(message));
        }
        _outbox.Writer.TryWrite(report);
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
                foreach (var slot in order.Release) node.Release(slot);
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
