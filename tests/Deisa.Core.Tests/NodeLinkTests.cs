using Deisa.Cluster;
using Deisa.Core.Tests.Fixtures;
using Deisa.Engine.Head;
using Deisa.Hosting;
using Deisa.Model;
using Deisa.Protocol;

namespace Deisa.Core.Tests;

/// <summary>
/// A cluster node's link to the head, over real gRPC on loopback TCP: the session token is
/// checked, each host gets one node service, and a link that ends without the run's end fails
/// the run naming the node and its worker.
/// </summary>
public class NodeLinkTests
{
    private static Task<AnalyticsRun> StartClusterRunAsync(string rendezvous) => AnalyticsRun.StartAsync(new AnalyticsOptions
    {
        Address = "tcp://127.0.0.1:0",
        RendezvousDirectory = rendezvous,
        Cluster = true,
        PoolBytes = 16 << 20,
        Timeout = TimeSpan.FromSeconds(10),
    });

    [Fact]
    public async Task ALinkWithoutTheSessionTokenIsRefused()
    {
        using var dir = new RendezvousDirectory("link");
        await using var run = await StartClusterRunAsync(dir);
        var forged = run.Info with { Token = "not-the-token" };
        var e = await Assert.ThrowsAsync<DeisaException>(() =>
            NodeLink.ConnectAsync(forged, "nodeA", "tcp://10.1.1.1:1", TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Contains("token", e.Message);
        Assert.Null((await run.Head.StatusAsync()).Nodes);
    }

    [Fact]
    public async Task EachHostGetsOneNodeAndALostLinkFailsTheRunNamingIt()
    {
        using var dir = new RendezvousDirectory("link");
        await using var run = await StartClusterRunAsync(dir);
        await using var first = await NodeLink.ConnectAsync(run.Info, "nodeA", "tcp://10.1.1.1:1", TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal(1, first.Index);
        Assert.Equal(16 << 20, first.PoolBytes);

        var twice = await Assert.ThrowsAsync<DeisaException>(() =>
            NodeLink.ConnectAsync(run.Info, "nodeA", "tcp://10.1.1.1:2", TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal(DeisaStatus.State, twice.Status);
        Assert.Contains("node nodeA already has a deisa node service (worker tcp://10.1.1.1:1)", twice.Message);

        await using (var second = await NodeLink.ConnectAsync(run.Info, "nodeB", "tcp://10.1.1.2:1", TimeSpan.FromSeconds(5), CancellationToken.None))
            Assert.Equal(2, second.Index);
        // nodeB's link ended while the run goes on: the run fails, naming it.
        var failed = await NextFailureAsync(run);
        Assert.Contains("node nodeB was lost (Dask worker tcp://10.1.1.2:1", failed.Message);
        var nodes = (await run.Head.StatusAsync()).Nodes!;
        Assert.Equal(["nodeA", "nodeB"], nodes.Select(n => n.Host));
        Assert.Null(nodes[0].Lost);
        Assert.Contains("node nodeB was lost", nodes[1].Lost);
    }

    [Fact]
    public async Task TheBlocksOfAnArrayAtATimestepAreReportedInOneMessageOnceAllOfTheNodesRanksArrived()
    {
        using var dir = new RendezvousDirectory("link");
        await using var run = await StartClusterRunAsync(dir);
        await using var link = await NodeLink.ConnectAsync(run.Info, "nodeA", "tcp://10.1.1.1:1", TimeSpan.FromSeconds(5), CancellationToken.None,
            maxHold: TimeSpan.FromMinutes(5)); // nothing flushed by time in this test
        var node = new Deisa.Engine.Node.NodeActor(Shm.NewPrefix(), 16 << 20, link, anonymous: true);
        link.Start(node);
        // Ranks 0 and 1 on nodeA hold "a", rank 2 (on nodeB) too; "b" is rank 0's alone.
        var registering = Enumerable.Range(0, 3).Select(r => run.Head.RegisterAsync(r, 3,
            r == 0 ? [Run.Strip(r, 3, "a", DType.Int32), Run.Strip(0, 1, "b", DType.Int32)] : [Run.Strip(r, 3, "a", DType.Int32)],
            Run.Timeout, host: r < 2 ? "nodeA" : "nodeB")).ToList();
        await Task.WhenAll(registering);
        var deadline = DateTime.UtcNow + Run.Timeout;
        while (link.LocalRanksOf("a") == 0 && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Equal((2, 1), (link.LocalRanksOf("a"), link.LocalRanksOf("b")));

        long before = link.ReportsSent;
        link.Tell(Arrival(0, "a", 0));
        Assert.Equal(1, link.HeldBatches);          // waits for rank 1's block of "a" at 0
        link.Tell(Arrival(0, "a", 1));
        Assert.Equal(2, link.HeldBatches);          // another timestep, another batch
        link.Tell(Arrival(1, "a", 0));
        Assert.Equal(1, link.HeldBatches);          // complete: reported
        await WaitForAsync(() => link.ReportsSent == before + 1);
        link.Tell(Arrival(0, "b", 0));              // one rank of the node holds "b": no batch
        Assert.Equal(1, link.HeldBatches);
        await WaitForAsync(() => link.ReportsSent == before + 2);
        link.Tell(new Deisa.Engine.Messages.BlockAbandoned(1, "a", 1)); // rank 1 gives t = 1 up: the batch goes as it is, first
        Assert.Equal(0, link.HeldBatches);
        await node.ShutdownAsync();

        static Deisa.Engine.Messages.BlockArrived Arrival(int rank, string array, long t) =>
            new(rank, array, t, DType.Int32, [1], MemoryOrder.C, new Deisa.Engine.Messages.BlockLocation(100 + rank, "memfd:1:1:x", 0, 4));
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Run.Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the condition did not hold in time");
            await Task.Delay(5);
        }
    }

    private static async Task<RunFailed> NextFailureAsync(AnalyticsRun run)
    {
        var deadline = DateTime.UtcNow + Run.Timeout;
        while (DateTime.UtcNow < deadline)
            if (await run.NextEventAsync(TimeSpan.FromMilliseconds(200)) is RunFailed f) return f;
        throw new TimeoutException("the run did not fail");
    }
}
