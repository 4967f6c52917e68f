using Deisa.Engine.Head;
using Deisa.Model;

namespace Deisa.Core.Tests;

/// <summary>
/// The ordering check (docs/specification.md §4): a timestep that closes with an array partially sent fails the
/// run after the earlier complete timesteps ran; and a bridge never goes back in time (docs/specification.md §3).
/// </summary>
public class OrderingCheckTests
{
    [Fact]
    public async Task ARankSkippingATimestepFailsTheRunNamingArrayTimestepAndRank()
    {
        // docs/specification.md §9: rank 0 sends t = 1 and t = 2, rank 1 sends only t = 2 (after a complete t = 0).
        await using var run = Run.Start(maxSimulationAhead: 1);
        var cb = await run.AndAsync("array");
        await run.RegisterStripsAsync(2, "array");

        var analytics = run.ReadToEndAsync();
        await run.SendAllAsync(2, "array", 0);
        await run.SendAsync(0, "array", 1);
        var rank0 = run.SendAsync(0, "array", 2); // waits: t = 1 is pending
        var rank1 = run.SendAsync(1, "array", 2); // closes t = 1 while rank 1's block of t = 1 never came
        var events = await analytics;

        Assert.Equal([0L], events.Due(cb).Select(d => d.Timestep)); // every earlier complete timestep ran first
        var failed = Assert.IsType<RunFailed>(events[^1]);
        Assert.Equal(DeisaStatus.State, failed.Status);
        Assert.Contains("logical flow of data was violated", failed.Message);
        Assert.Contains("'array'", failed.Message);
        Assert.Contains("timestep 1", failed.Message);
        Assert.Contains("rank 1", failed.Message);
        Assert.DoesNotContain("rank 0", failed.Message);
        // The sends of t = 2 were waiting for the analytics: they must end (with an error), not hang.
        foreach (var send in new[] { rank0, rank1 })
        {
            var error = await Record.ExceptionAsync(() => send.WaitAsync(Run.Timeout));
            Assert.Equal(DeisaStatus.AnalyticsLost, Assert.IsType<DeisaException>(error).Status);
            Assert.Contains("logical flow", error.Message);
        }
    }

    [Fact]
    public async Task TheSendOfAnOlderTimestepIsRefused()
    {
        await using var run = Run.Start(maxSimulationAhead: 4);
        await run.RegisterStripsAsync(1, "a", "b");
        await run.SendAsync(0, "a", 2);
        await run.SendAsync(0, "b", 2); // the same timestep again is fine for another array

        var e = await Assert.ThrowsAsync<DeisaException>(() => run.AdmitAsync(0, "a", 1).WaitAsync(Run.Timeout));
        Assert.Equal(DeisaStatus.Value, e.Status);
        Assert.Contains("timestep 1 is older than timestep 2", e.Message);
        e = await Assert.ThrowsAsync<DeisaException>(() => run.AdmitAsync(0, "b", 1).WaitAsync(Run.Timeout));
        Assert.Equal(DeisaStatus.Value, e.Status);
    }

    [Fact]
    public async Task TheSameArrayAndTimestepTwiceIsRefused()
    {
        await using var run = Run.Start();
        await run.RegisterStripsAsync(1, "a");
        await run.SendAsync(0, "a", 0);

        var e = await Assert.ThrowsAsync<DeisaException>(() => run.AdmitAsync(0, "a", 0).WaitAsync(Run.Timeout));
        Assert.Equal(DeisaStatus.Value, e.Status);
        Assert.Contains("'a' was already sent at timestep 0", e.Message);
    }

    [Fact]
    public async Task ASendAfterCloseIsAStateError()
    {
        await using var run = Run.Start();
        await run.RegisterStripsAsync(2, "a");
        await run.CloseAsync(0);

        var e = await Assert.ThrowsAsync<DeisaException>(() => run.AdmitAsync(0, "a", 0).WaitAsync(Run.Timeout));
        Assert.Equal(DeisaStatus.State, e.Status);
        Assert.Contains("after close", e.Message);
    }

    [Fact]
    public async Task ASendOfAnUndeclaredArrayIsAContractErrorListingTheDeclaredNames()
    {
        await using var run = Run.Start();
        await run.RegisterStripsAsync(1, "temperature", "pressure");

        var e = await Assert.ThrowsAsync<DeisaException>(() => run.AdmitAsync(0, "density", 0).WaitAsync(Run.Timeout));
        Assert.Equal(DeisaStatus.Contract, e.Status);
        Assert.Contains("'density'", e.Message);
        Assert.Contains("'temperature'", e.Message);
        Assert.Contains("'pressure'", e.Message);
    }

    [Fact]
    public async Task ASendBeforeEveryRankRegisteredIsAStateError()
    {
        await using var run = Run.Start();
        var registering = run.StartRegistration(2, r => [Run.Strip(r, 2, "a")], ranks: [0]);

        var e = await Assert.ThrowsAsync<DeisaException>(() => run.AdmitAsync(0, "a", 0).WaitAsync(Run.Timeout));
        Assert.Equal(DeisaStatus.State, e.Status);
        Assert.False(registering[0].IsCompleted);
    }
}
