using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Deisa.Engine.Head;
using Deisa.Engine.Messages;
using Deisa.Model;
using Deisa.Protocol.Messages;

namespace Deisa.Server;

/// <summary>
/// The head's end of the node services' links (deisa.proto, service Nodes): each link's reports
/// become the head's messages (admissions, arrivals, abandons, pool use), and the head's
/// messages to that node go back as orders, several per message when they queue up.
/// </summary>
[BindServiceMethod(typeof(NodeLinkService), nameof(Bind))]
internal sealed class NodeLinkService(HeadActor head, IHostApplicationLifetime lifetime) : Nodes.NodesBase
{
    /// <summary>Binds the service with its requests checked (<see cref="CheckedRequests"/>).</summary>
    public static void Bind(ServiceBinderBase binder, Nodes.NodesBase service) => Nodes.BindService(new CheckedRequests(binder), service);

    public override async Task Link(IAsyncStreamReader<NodeReport> reports, IServerStreamWriter<HeadOrder> orders, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        if (!await reports.MoveNext(ct) || reports.Current.Hello is not { } hello)
            throw DeisaException.Value("a node's link must start with its hello");
        var outbox = Channel.CreateUnbounded<HeadOrder>(new UnboundedChannelOptions { SingleReader = true });
        int index = await head.AddNodeAsync(hello.Host, hello.Worker, hello.Pid, new RemoteNode(outbox.Writer));
        await orders.WriteAsync(new HeadOrder { Node = index, PoolBytes = head.Options.PoolBytes }, ct);
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(ct, lifetime.ApplicationStopping);
        var writing = WriteAsync(outbox.Reader, orders, stopping.Token);
        string why = "its link ended";
        try
        {
            while (await reports.MoveNext(stopping.Token)) Handle(index, reports.Current, outbox.Writer);
        }
        catch (OperationCanceledException) { why = "its connection was lost"; }
        catch (IOException e) { why = $"its connection was lost ({e.Message})"; }
        finally
        {
            outbox.Writer.TryComplete();
            if (!lifetime.ApplicationStopping.IsCancellationRequested) head.NodeLost(index, why);
        }
        try { await writing.ConfigureAwait(false); } catch (Exception) { }
        if (lifetime.ApplicationStopping.IsCancellationRequested)
            try { await orders.WriteAsync(new HeadOrder { Stop = true }, CancellationToken.None); } catch (Exception) { }
    }

    private void Handle(int node, NodeReport report, ChannelWriter<HeadOrder> outbox)
    {
        foreach (var s in report.Admit) _ = AdmitAsync(s, outbox);
        foreach (var s in report.Arrived)
        {
            var b = s.Block ?? throw DeisaException.Value($"node {node}: an arrival without its block");
            head.Tell(new BlockArrived(s.Rank, s.Array, s.Timestep, (DType)s.Dtype, s.Shape.ToArray(), (MemoryOrder)s.Order,
                new BlockLocation(Leases.Of(node, b.Slot), b.Segment, b.Offset, b.Nbytes)));
        }
        foreach (var a in report.Abandoned) head.Tell(new BlockAbandoned(a.Rank, a.Array, a.Timestep));
        foreach (var w in report.Withdrawn) head.Withdraw(w.Rank, w.Array, w.Timestep);
        if (report.FlightLocation.Length > 0) head.SetNodeFlight(node, report.FlightLocation);
        if (report.Pool is { } p) head.SetNodePool(node, new PoolUsage(p.Budget, p.Allocated, p.InUse, p.Segments, p.Blocks, p.WaitingSends));
    }

    private async Task AdmitAsync(NodeSend s, ChannelWriter<HeadOrder> outbox)
    {
        var answer = new Admitted { Id = s.Id };
        try
        {
            var send = new BlockSend(s.Rank, s.Array, s.Timestep, (DType)s.Dtype, s.Shape.ToArray(), (MemoryOrder)s.Order, s.Nbytes);
            await head.AdmitAsync(send, Waits.FromMilliseconds(s.TimeoutMs)).ConfigureAwait(false);
        }
        catch (DeisaException e) { answer.Status = (int)e.Status; answer.Message = e.Message; }
        catch (Exception e) { answer.Status = (int)DeisaStatus.Internal; answer.Message = $"internal error: {e.GetType().Name}: {e.Message}"; }
        var order = new HeadOrder();
        order.Admitted.Add(answer);
        outbox.TryWrite(order);
    }

    /// <summary>Writes the queued orders, merging those that wait into one message.</summary>
    private static async Task WriteAsync(ChannelReader<HeadOrder> outbox, IServerStreamWriter<HeadOrder> orders, CancellationToken ct)
    {
        while (await outbox.WaitToReadAsync(ct).ConfigureAwait(false))
        {
            var merged = new HeadOrder();
            int n = 0;
            while (n < 4096 && outbox.TryRead(out var o)) { merged.MergeFrom(o); n++; }
            await orders.WriteAsync(merged, ct).ConfigureAwait(false);
        }
    }

    /// <summary>What the head tells a remote node, as orders on its link.</summary>
    private sealed class RemoteNode(ChannelWriter<HeadOrder> outbox) : INodeInbox
    {
        public void Tell(NodeMessage message)
        {
            var order = new HeadOrder();
            switch (message)
            {
                case ReleaseBlock r: order.Release.Add(Leases.SlotOf(r.Lease)); break;
                case HoldBlock h: order.Hold.Add(Leases.SlotOf(h.Lease)); break;
                case ServeFlight: order.ServeFlight = true; break;
                case RankGone g: order.RanksGone.Add(g.Rank); break;
                case ReserveBlocks r: order.Reserve.Add(r.BlockBytes); break;
                case LocalArrays l:
                    for (int i = 0; i < l.Arrays.Length; i++)
                    {
                        var a = new NodeArray { Array = l.Arrays[i] };
                        a.Ranks.Add(l.Ranks[i]);
                        order.Arrays.Add(a);
                    }
                    break;
                default: throw new ArgumentException($"a node does not handle {message.GetType().Name}", nameof(message));
            }
            outbox.TryWrite(order);
        }
    }
}
