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

    private static async Task<RunFailed> NextFailureAsync(AnalyticsRun run)
    {
        var deadline = DateTime.UtcNow + Run.Timeout;
        while (DateTime.UtcNow < deadline)
            if (await run.NextEventAsync(TimeSpan.FromMilliseconds(200)) is RunFailed f) return f;
        throw new TimeoutException("the run did not fail");
    }
}
