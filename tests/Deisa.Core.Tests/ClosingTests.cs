using Deisa.Engine.Head;
using Deisa.Model;

namespace Deisa.Core.Tests;

/// <summary>
/// Closing (docs/specification.md §3 close, §4): t closes once every bridge sent a later timestep or closed; the
/// run ends once every bridge closed and every timestep was processed.
/// </summary>
public class ClosingTests
{
    [Fact]
    public async Task TheRunEndsOnlyWhenEveryBridgeClosedAndTheLastCallbacksFinished()
    {
        await using var run = Run.Start();
        await run.AndAsync("a");
        await run.RegisterStripsAsync(2, "a");
        await run.SendAllAsync(2, "a", 0);
        await run.ReadUntilAsync<TimestepDone>(finish: false);

        await run.CloseAsync(0);
        await run.CloseAsync(0); // idempotent
        await run.CloseAsync(1);
        await run.AssertQuietAsync(); // t = 0 is closed, but its callbacks have not finished

        run.Head.FinishTimestep(0);
        Assert.Equal(new ArrayDropped("a", 0), await run.ExpectAsync<ArrayDropped>());
        await run.ExpectAsync<RunEnded>();
        await run.AssertQuietAsync();
    }

    [Fact]
    public async Task ATimestepClosesOnlyWhenEveryBridgeMovedPastIt()
    {
        await using var run = Run.Start(maxSimulationAhead: 3);
        var cb = await run.OrAsync("a");
        await run.RegisterStripsAsync(3, "a");
        await run.SendAllAsync(3, "a", 0);
        await run.SendAsync(0, "a", 1);
        await run.CloseAsync(1);
        await run.AssertQuietAsync(); // rank 2 is still at t = 0

        await run.CloseAsync(2, 4); // close(timestep) counts as having gone past t = 0
        var due = (await run.ReadUntilAsync<CallbackDue>()).Due();
        Assert.Equal([(cb, 0L)], due.Select(d => (d.CallbackId, d.Timestep)));
    }

    [Fact]
    public async Task ClosingAnUnregisteredRankIsAStateError()
    {
        await using var run = Run.Start();
        var e = await Assert.ThrowsAsync<DeisaException>(() => run.CloseAsync(3));
        Assert.Equal(DeisaStatus.State, e.Status);
    }

    [Fact]
    public async Task AStatusSnapshotShowsRanksArraysAndProgress()
    {
        await using var run = Run.Start(maxSimulationAhead: 2);
        await run.AndAsync("a");
        await run.RegisterAsync(2, r => [Run.Strip(r, 2, "a", DType.Int32)]);
        await run.SendAllAsync(2, "a", 0);
        await run.ReadUntilAsync<TimestepDone>();
        await run.SendAllAsync(2, "a", 1); // closes t = 0
        await run.ReadUntilAsync<TimestepDone>();
        await run.CloseAsync(1);
        await run.QuiesceAsync();

        var status = await run.StatusAsync();
        Assert.Equal(2, status.WorldSize);
        Assert.Equal([0, 1], status.ConnectedRanks);
        Assert.Equal([1], status.ClosedRanks);
        Assert.Empty(status.LostRanks);
        Assert.Equal(2, status.MaxSimulationAhead);
        var a = Assert.Single(status.Arrays);
        Assert.Equal(("a", "int32"), (a.Name, a.DType));
        Assert.Equal(1, a.LastReceived);
        Assert.Equal(0, status.LastProcessed); // t = 1 is finished but not closed: rank 0 is open
        Assert.Equal(0, status.PendingTimesteps);
        await run.CloseAsync(0);
        Assert.IsType<RunEnded>((await run.ReadToEndAsync())[^1]);
    }
}
