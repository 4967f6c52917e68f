using Deisa.Engine.Head;
using Deisa.Model;

namespace Deisa.Core.Tests;

/// <summary>
/// Back-pressure (docs/specification.md §3): a send for a timestep that is not yet pending waits while
/// max_simulation_ahead timesteps are pending; it waits, never drops, and times out clearly.
/// </summary>
public class BackPressureTests
{
    /// <summary>Rank 0 sends t = 0 of 'a'; the analytics reads up to TimestepDone(0) and does not finish it.</summary>
    private static async Task<Run> StartWithTimestepZeroUnfinished(int maxAhead)
    {
        var run = Run.Start(maxSimulationAhead: maxAhead);
        await run.AndAsync("a");
        await run.RegisterStripsAsync(1, "a");
        await run.SendAsync(0, "a", 0);
        await run.ReadUntilAsync<TimestepDone>(finish: false);
        return run;
    }

    [Fact]
    public async Task WithOneAheadTheNextSendWaitsUntilTheAnalyticsFinishedTheTimestep()
    {
        await using var run = await StartWithTimestepZeroUnfinished(maxAhead: 1);

        var admit = run.AdmitAsync(0, "a", 1);
        var status = await run.StatusAsync(); // handled after the admission request
        Assert.Equal(1, status.PendingTimesteps);
        Assert.False(admit.IsCompleted);

        run.Head.FinishTimestep(0);
        await admit.WaitAsync(Run.Timeout);
        Assert.Equal(1, (await run.StatusAsync()).PendingTimesteps); // t = 1 now, t = 0 is done
    }

    [Fact]
    public async Task FinishingAnotherTimestepDoesNotReleaseTheWait()
    {
        await using var run = await StartWithTimestepZeroUnfinished(maxAhead: 1);

        var admit = run.AdmitAsync(0, "a", 1);
        run.Head.FinishTimestep(5); // not the timestep the head waits for: ignored
        Assert.Equal(1, (await run.StatusAsync()).PendingTimesteps);
        Assert.False(admit.IsCompleted);

        run.Head.FinishTimestep(0);
        await admit.WaitAsync(Run.Timeout);
    }

    [Fact]
    public async Task WithTwoAheadTheNextSendIsAdmittedAtOnceAndTheOneAfterWaits()
    {
        await using var run = await StartWithTimestepZeroUnfinished(maxAhead: 2);

        await run.AdmitAsync(0, "a", 1).WaitAsync(Run.Timeout); // t = 0 unfinished: still admitted
        await run.WriteAsync(0, "a", 1);
        var admit2 = run.AdmitAsync(0, "a", 2);
        var status = await run.StatusAsync();
        Assert.Equal(2, status.PendingTimesteps);
        Assert.False(admit2.IsCompleted);

        run.Head.FinishTimestep(0);
        await admit2.WaitAsync(Run.Timeout);
    }

    [Fact]
    public async Task TimestepsAreCountedNotTheirValues()
    {
        await using var run = await StartWithTimestepZeroUnfinished(maxAhead: 2);

        await run.AdmitAsync(0, "a", 1000).WaitAsync(Run.Timeout); // a gap of 1000 is one timestep ahead
        await run.WriteAsync(0, "a", 1000);
        var admit = run.AdmitAsync(0, "a", 5000);
        Assert.Equal(2, (await run.StatusAsync()).PendingTimesteps);
        Assert.False(admit.IsCompleted);
    }

    [Fact]
    public async Task MoreSendsOfAPendingTimestepAreAdmittedAtOnce()
    {
        await using var run = Run.Start(maxSimulationAhead: 1);
        await run.AndAsync("a", "b");
        await run.RegisterStripsAsync(2, "a", "b");
        await run.SendAsync(0, "a", 0); // t = 0 is pending: the one timestep allowed
        await run.SendAsync(1, "a", 0);
        await run.SendAsync(0, "b", 0);
        await run.SendAsync(1, "b", 0);
        await run.ReadUntilAsync<TimestepDone>(finish: false);
    }

    [Fact]
    public async Task ASendForATimestepOlderThanAPendingOneIsAdmitted()
    {
        // Rank 0 owns 'a', rank 1 owns 'b'. Rank 0 is ahead: t = 1 is pending (the one allowed).
        // Rank 1, behind, sends t = 0: admitted, or it would wait for t = 1, which waits for it.
        await using var run = Run.Start(maxSimulationAhead: 1);
        var onA = await run.AndAsync("a");
        var onB = await run.AndAsync("b");
        await run.RegisterAsync(2, r => [new BlockDeclaration(r, r == 0 ? "a" : "b", [1], [1], [0])]);

        await run.SendAsync(0, "a", 1);
        Assert.Equal(1, (await run.StatusAsync()).PendingTimesteps);
        await run.AdmitAsync(1, "b", 0).WaitAsync(Run.Timeout);
        await run.WriteAsync(1, "b", 0);

        var analytics = run.ReadToEndAsync();
        await run.SendAsync(1, "b", 1);
        await run.CloseAllAsync(2);
        var events = await analytics;
        Assert.IsType<RunEnded>(events[^1]);
        // Callbacks run in timestep order: 'a' at t = 1 waits until no rank can still send t = 0.
        Assert.Equal([(onB, 0L), (onA, 1L), (onB, 1L)], events.Due().Select(d => (d.CallbackId, d.Timestep)));
    }

    [Fact]
    public async Task ASendCountsForClosingWhileItWaits()
    {
        // OR fires for t = 0 only once t = 0 closes; the send of t = 1 that closes it is itself
        // waiting for t = 0 to finish. Counting the call (not the admission) avoids the deadlock.
        await using var run = Run.Start(maxSimulationAhead: 1);
        var cb = await run.OrAsync("a");
        await run.RegisterStripsAsync(1, "a");
        await run.SendAsync(0, "a", 0);
        await run.AssertQuietAsync();

        var admit = run.AdmitAsync(0, "a", 1);
        var events = await run.ReadUntilAsync<TimestepDone>();
        Assert.Equal([(cb, 0L)], events.Due().Select(d => (d.CallbackId, d.Timestep)));
        await admit.WaitAsync(Run.Timeout);
    }

    [Fact]
    public async Task WithoutCallbacksTimestepsAreNeverPending()
    {
        await using var run = Run.Start(maxSimulationAhead: 1);
        await run.RegisterStripsAsync(1, "a");
        for (long t = 0; t < 5; t++) await run.SendAsync(0, "a", t); // nobody finishes anything
        await run.AssertQuietAsync();
        Assert.Equal(0, (await run.StatusAsync()).PendingTimesteps);
    }

    [Fact]
    public async Task AWaitThatRunsOutIsATimeoutErrorNamingArrayAndTimestep()
    {
        await using var run = await StartWithTimestepZeroUnfinished(maxAhead: 1);

        var e = await Assert.ThrowsAsync<DeisaException>(() =>
            run.AdmitAsync(0, "a", 1, timeout: TimeSpan.FromMilliseconds(200)).WaitAsync(Run.Timeout));
        Assert.Equal(DeisaStatus.Timeout, e.Status);
        Assert.Contains("'a'", e.Message);
        Assert.Contains("timestep 1", e.Message);
        Assert.Contains("max_simulation_ahead=1", e.Message);

        // Nothing was dropped: the analytics can still finish t = 0 and the rank send t = 1 again.
        run.Head.FinishTimestep(0);
        await run.SendAsync(0, "a", 1);
        var events = await run.ReadUntilAsync<TimestepDone>(finish: false);
        Assert.Equal([1L], events.Due().Select(d => d.Timestep));
    }

    [Fact]
    public async Task ASendWaitsForAFullPoolUntilTheAnalyticsReleasesAnOldArray()
    {
        // Pool of two one-page blocks; window of 2; three timesteps may be pending.
        await using var run = Run.Start(maxSimulationAhead: 3, poolBytes: 2 * 4096);
        await run.CallbackAsync(FiringRule.And, new WindowSpec("a", 2));
        await run.RegisterAsync(1, r => [new BlockDeclaration(r, "a", [1024], [1024], [0], DType.Int32)]);
        await run.SendAsync(0, "a", 0);
        await run.ReadUntilAsync<TimestepDone>(finish: false); // the analytics holds t = 0
        await run.SendAsync(0, "a", 1);                         // the head holds t = 1: pool full
        await run.AdmitAsync(0, "a", 2).WaitAsync(Run.Timeout);

        var write = run.WriteAsync(0, "a", 2);
        var usage = await run.UsageAsync();
        Assert.Equal((1, 2), (usage.WaitingSends, usage.Blocks));
        Assert.False(write.IsCompleted);

        run.Head.FinishTimestep(0);
        var due = (await run.ReadUntilAsync<TimestepDone>()).Due(); // t = 1 runs with window [0, 1]
        Assert.Equal([0L, 1], Assert.Single(due).Windows["a"]);
        Assert.False(write.IsCompleted);
        Assert.Equal(new ArrayDropped("a", 0), await run.ExpectAsync<ArrayDropped>()); // released by the analytics
        await write.WaitAsync(Run.Timeout);
        var next = (await run.ReadUntilAsync<CallbackDue>()).Due().Single();
        Assert.Equal([1L, 2], next.Windows["a"]); // nothing was dropped
    }

    [Fact]
    public async Task ABlockThatCanNeverFitFailsTheSendAtOnce()
    {
        // The dtype is not declared, so registration cannot check the pool; the send does.
        await using var run = Run.Start(poolBytes: 4096);
        await run.AndAsync("a");
        await run.RegisterAsync(1, r => [new BlockDeclaration(r, "a", [2048], [2048], [0])]);
        await run.AdmitAsync(0, "a", 0, DType.Int32).WaitAsync(Run.Timeout);
        var e = await Assert.ThrowsAsync<DeisaException>(() => run.WriteAsync(0, "a", 0, DType.Int32));
        Assert.Equal(DeisaStatus.Value, e.Status);
        Assert.Contains("'a'", e.Message);
        Assert.Contains("8192 bytes does not fit in the shared-memory pool of 4096 bytes", e.Message);
    }

    [Fact]
    public async Task StoppingTheAnalyticsEndsWaitingSends()
    {
        await using var run = await StartWithTimestepZeroUnfinished(maxAhead: 1);
        var admit = run.AdmitAsync(0, "a", 1);
        await run.QuiesceAsync();
        await run.Head.StopAsync("the analytics crashed").WaitAsync(Run.Timeout);

        var e = await Assert.ThrowsAsync<DeisaException>(() => admit.WaitAsync(Run.Timeout));
        Assert.Equal(DeisaStatus.AnalyticsLost, e.Status);
    }
}
