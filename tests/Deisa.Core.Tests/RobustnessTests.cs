using Deisa.Engine.Head;
using Deisa.Engine.Node;
using Deisa.Model;

namespace Deisa.Core.Tests;

/// <summary>Misbehaving or unlucky clients never leak memory, lose data silently or hang the head.</summary>
public class RobustnessTests
{
    [Fact]
    public async Task ARentCancelledAfterItWasGrantedIsGivenBack()
    {
        await using var run = Run.Start(poolBytes: 1 << 20);
        await run.RegisterStripsAsync(1, "a");
        for (int i = 0; i < 20; i++)
        {
            using var cts = new CancellationTokenSource();
            var rent = run.Node.RentAsync(new BlockSend(0, "a", i, DType.Int32, [1], MemoryOrder.C, 4), 0, cts.Token);
            cts.Cancel();
            try
            {
                var got = await rent.WaitAsync(Run.Timeout);
                // Granted before the cancellation: the slot is the caller's and can be committed.
                await run.Node.CommitAsync(got.Slot.Id, 0).WaitAsync(Run.Timeout);
                run.Node.Release(got.Slot.Id);
            }
            catch (OperationCanceledException) { }
            await run.QuiesceAsync();
            Assert.Equal(0, (await run.UsageAsync()).Blocks);
        }
    }

    [Fact]
    public async Task TheSameBlockAnnouncedTwiceIsRefusedBeforeItIsWritten()
    {
        await using var run = Run.Start();
        await run.AndAsync("a");
        await run.RegisterStripsAsync(2, "a");
        await run.AdmitAsync(0, "a", 0).WaitAsync(Run.Timeout);
        var e = await Assert.ThrowsAsync<DeisaException>(() => run.AdmitAsync(0, "a", 0));
        Assert.Equal(DeisaStatus.Value, e.Status);
        Assert.Contains("already sent at timestep 0", e.Message);
    }

    [Fact]
    public async Task AnAbandonedBlockCanBeSentAgainAndTheRunCompletes()
    {
        await using var run = Run.Start();
        var cb = await run.AndAsync("a");
        await run.RegisterStripsAsync(1, "a");
        await run.AdmitAsync(0, "a", 0).WaitAsync(Run.Timeout);
        var rented = await run.Node.RentAsync(new BlockSend(0, "a", 0, DType.Int32, [1], MemoryOrder.C, 4), 0, CancellationToken.None).WaitAsync(Run.Timeout);
        run.Node.Abandon(rented.Slot.Id, 0);
        await run.QuiesceAsync();
        await run.SendAsync(0, "a", 0);
        var analytics = run.ReadToEndAsync();
        await run.CloseAllAsync(1);
        var events = await analytics;
        Assert.Equal([(cb, 0L)], events.Due().Select(d => (d.CallbackId, d.Timestep)));
        Assert.Equal(0, (await run.UsageAsync()).Blocks);
    }

    [Fact]
    public async Task ABlockBeingWrittenKeepsItsTimestepOpen()
    {
        // Rank 0 holds a zero-copy buffer of 'a' at t = 0 while another rank moves on:
        // t = 0 must not close (and drop the block) before the buffer is committed.
        await using var run = Run.Start(maxSimulationAhead: 2);
        var cb = await run.AndAsync("a");
        await run.RegisterAsync(2, r => r == 0 ? [new BlockDeclaration(0, "a", [1], [1], [0])] : [new BlockDeclaration(1, "b", [1], [1], [0])]);
        await run.AdmitAsync(0, "a", 0).WaitAsync(Run.Timeout);
        var rented = await run.Node.RentAsync(new BlockSend(0, "a", 0, DType.Int32, [1], MemoryOrder.C, 4), 0, CancellationToken.None).WaitAsync(Run.Timeout);
        await run.SendAsync(1, "b", 1);
        await run.AssertQuietAsync();
        await run.Node.CommitAsync(rented.Slot.Id, 0).WaitAsync(Run.Timeout);
        var analytics = run.ReadToEndAsync();
        await run.CloseAllAsync(2);
        var events = await analytics;
        Assert.Equal([(cb, 0L)], events.Due().Select(d => (d.CallbackId, d.Timestep)));
    }

    [Fact]
    public async Task SendsAfterAFailedRunAreRefusedAtOnce()
    {
        await using var run = Run.Start();
        await run.AndAsync("a");
        await run.RegisterStripsAsync(2, "a");
        await run.SendAsync(0, "a", 1);
        // Both ranks move to t = 2 (their sends wait, then end with an error): t = 1 closes
        // with rank 1's block missing.
        var waiting = Task.WhenAll(run.AdmitAsync(1, "a", 2), run.AdmitAsync(0, "a", 2));
        await run.ReadUntilAsync<RunFailed>();
        await Assert.ThrowsAsync<DeisaException>(() => waiting.WaitAsync(Run.Timeout));
        var started = DateTime.UtcNow;
        var e = await Assert.ThrowsAsync<DeisaException>(() => run.AdmitAsync(0, "a", 3, timeout: TimeSpan.FromSeconds(5)));
        Assert.Equal(DeisaStatus.AnalyticsLost, e.Status);
        Assert.Contains("logical flow", e.Message);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(4));
    }
}
