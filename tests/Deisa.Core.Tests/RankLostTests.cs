using Deisa.Engine.Head;
using Deisa.Model;

namespace Deisa.Core.Tests;

/// <summary>
/// A rank that dies (docs/specification.md §8): the analytics finishes the complete timesteps, then the run
/// fails naming the rank and the timestep; it never hangs.
/// </summary>
public class RankLostTests
{
    [Fact]
    public async Task ALostRankWithAPartialTimestepFailsTheRunAfterTheCompleteOnes()
    {
        await using var run = Run.Start();
        var cb = await run.AndAsync("a");
        await run.RegisterStripsAsync(2, "a");

        var analytics = run.ReadToEndAsync();
        await run.SendAllAsync(2, "a", 0);
        await run.SendAllAsync(2, "a", 1);
        await run.SendAsync(0, "a", 2);
        run.Head.RankLost(1); // rank 1 died before sending t = 2
        await run.CloseAsync(0);
        var events = await analytics;

        Assert.Equal([0L, 1], events.Due(cb).Select(d => d.Timestep));
        var failed = Assert.IsType<RunFailed>(events[^1]);
        Assert.Equal(DeisaStatus.State, failed.Status);
        Assert.Contains("'a' at timestep 2", failed.Message);
        Assert.Contains("rank 1 ended without closing the bridge", failed.Message);
    }

    [Fact]
    public async Task ALostRankAfterCompleteTimestepsFailsTheRunNamingItsLastTimestep()
    {
        await using var run = Run.Start();
        var cb = await run.AndAsync("a");
        await run.RegisterStripsAsync(2, "a");

        var analytics = run.ReadToEndAsync();
        await run.SendAllAsync(2, "a", 0);
        await run.SendAllAsync(2, "a", 1);
        run.Head.RankLost(1);
        await run.CloseAsync(0);
        var events = await analytics;

        Assert.Equal([0L, 1], events.Due(cb).Select(d => d.Timestep));
        var failed = Assert.IsType<RunFailed>(events[^1]);
        Assert.Contains("rank 1 ended without closing its bridge", failed.Message);
        Assert.Contains("last timestep it sent: 1", failed.Message);
        Assert.DoesNotContain("rank 0", failed.Message);
    }

    [Fact]
    public async Task ARankLostWhileOthersKeepSendingFailsOnceTheNextTimestepCloses()
    {
        await using var run = Run.Start();
        await run.AndAsync("a");
        await run.RegisterStripsAsync(2, "a");

        var analytics = run.ReadToEndAsync();
        await run.SendAsync(0, "a", 0);
        run.Head.RankLost(1); // never sent anything
        var next = run.SendAsync(0, "a", 1); // closes t = 0, which misses rank 1's block
        var events = await analytics;

        Assert.Empty(events.Due());
        var failed = Assert.IsType<RunFailed>(events[^1]);
        Assert.Contains("timestep 0", failed.Message);
        Assert.Contains("rank 1", failed.Message);
        await Record.ExceptionAsync(() => next.WaitAsync(Run.Timeout)); // ends one way or the other
        Assert.True(next.IsCompleted);
    }

    [Fact]
    public async Task AClosedRankIsNotLost()
    {
        await using var run = Run.Start();
        await run.AndAsync("a");
        await run.RegisterStripsAsync(2, "a");

        var analytics = run.ReadToEndAsync();
        await run.SendAllAsync(2, "a", 0);
        await run.CloseAsync(1);
        run.Head.RankLost(1); // the connection of a closed bridge ends: not a failure
        await run.CloseAsync(0);
        Assert.IsType<RunEnded>((await analytics)[^1]);
    }
}
