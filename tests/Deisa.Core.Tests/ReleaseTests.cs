using Deisa.Engine.Head;
using Deisa.Model;

namespace Deisa.Core.Tests;

/// <summary>
/// Memory (docs/specification.md §4): a timestep no callback needs is released at once; data goes back to the
/// pool as soon as no window holds it; segments are reused, so memory stays bounded however
/// many timesteps run.
/// </summary>
public class ReleaseTests
{
    [Fact]
    public async Task ABlockNoCallbackNeedsIsReleasedAtOnce()
    {
        await using var run = Run.Start();
        await run.AndAsync("a");
        await run.RegisterStripsAsync(2, "a", "b");

        await run.SendAllAsync(2, "b", 0); // the run is still open: t = 0 is neither closed nor done
        var usage = await run.UsageAsync();
        Assert.Equal((0L, 0), (usage.InUse, usage.Blocks));
        await run.AssertQuietAsync();

        await run.SendAllAsync(2, "a", 0);
        await run.ReadUntilAsync<TimestepDone>(finish: false);
        usage = await run.UsageAsync();
        Assert.Equal(2, usage.Blocks); // the blocks of 'a', held by the analytics
    }

    [Fact]
    public async Task WithFlightServedEachArraysNewestTimestepIsKeptUntilANewerOneIsComplete()
    {
        await using var run = Run.Start();
        await run.Head.KeepNewestAsync();
        await run.AndAsync("a"); // 'b' is read by no callback
        await run.RegisterStripsAsync(2, "a", "b");
        async Task<string> Live() => string.Join(" ", (await run.Head.LiveArraysAsync()).Select(x => $"{x.Name}@{x.Timestep}"));

        await run.SendAllAsync(2, "b", 0);
        Assert.Equal(2, (await run.UsageAsync()).Blocks); // 'b' at 0: complete, not processed yet
        await run.SendAllAsync(2, "a", 0);
        await run.ReadUntilAsync<TimestepDone>(); // a@0's callback ran; its window let go of it
        Assert.IsType<ArrayDropped>(await run.NextAsync());
        Assert.Equal(4, (await run.UsageAsync()).Blocks); // still kept: a@0 and b@0, the newest
        Assert.Equal("a@0 b@0", await Live());

        await run.SendAllAsync(2, "a", 1);
        await run.SendAllAsync(2, "b", 1);
        await run.ReadUntilAsync<TimestepDone>();
        Assert.IsType<ArrayDropped>(await run.NextAsync());
        Assert.Equal(4, (await run.UsageAsync()).Blocks); // the newer ones replaced them
        Assert.Equal("a@1 b@1", await Live());

        await run.CloseAllAsync(2);
        Assert.IsType<RunEnded>(await run.NextAsync());
        var usage = await run.UsageAsync();
        Assert.Equal((0L, 0), (usage.InUse, usage.Blocks)); // every lease given back
        Assert.Equal("", await Live());
    }

    [Fact]
    public async Task WithFlightServedThePoolMustHoldTwoTimesteps()
    {
        await using var run = Run.Start(poolBytes: 3 * 4096); // two blocks of 4 KiB: one timestep, not two
        await run.Head.KeepNewestAsync();
        await run.AndAsync("a");
        var e = await Assert.ThrowsAsync<DeisaException>(() => run.RegisterAsync(2, r => [new BlockDeclaration(r, "a", [2048], [1024], [r], DType.Int32)]));
        Assert.Contains("smaller than two timesteps (Arrow Flight keeps the newest until the next is complete)", e.Message);
    }

    [Fact]
    public async Task FlightServedDuringARunKeepsOnlyTimestepsWhoseBlocksCameAfter()
    {
        await using var run = Run.Start(maxSimulationAhead: 2);
        await run.RegisterStripsAsync(2, "b");
        await run.SendAsync(0, "b", 0);               // released at once: no callback reads 'b'
        await run.Head.KeepNewestAsync();             // from timestep 1 on
        await run.SendAsync(1, "b", 0);
        Assert.Equal((0L, 0), ((await run.UsageAsync()).InUse, (await run.UsageAsync()).Blocks));
        await run.SendAllAsync(2, "b", 1);
        Assert.Equal(2, (await run.UsageAsync()).Blocks);
        Assert.Equal(["b"], (await run.Head.LiveArraysAsync()).Select(x => x.Name));
        await run.CloseAllAsync(2);
        Assert.IsType<RunEnded>(await run.NextAsync());
        Assert.Equal(0, (await run.UsageAsync()).Blocks);
    }

    [Fact]
    public async Task WithoutCallbacksEveryBlockIsReleasedAtOnce()
    {
        await using var run = Run.Start();
        await run.RegisterStripsAsync(1, "a");
        for (long t = 0; t < 3; t++) await run.SendAsync(0, "a", t);
        var usage = await run.UsageAsync();
        Assert.Equal((0L, 0), (usage.InUse, usage.Blocks));
        await run.CloseAsync(0);
        Assert.IsType<RunEnded>(await run.NextAsync());
    }

    [Fact]
    public async Task ATimestepSkippedByItsCallbackReleasesItsBlocksWhenItCloses()
    {
        await using var run = Run.Start();
        await run.AndAsync("a", "b");
        await run.RegisterStripsAsync(1, "a", "b");

        await run.SendAsync(0, "a", 0); // 'b' may still come at t = 0: 'a' is kept
        Assert.Equal(1, (await run.UsageAsync()).Blocks);
        await run.SendAsync(0, "a", 1); // t = 0 closes without 'b': AND skips it, 'a' at 0 goes
        var usage = await run.UsageAsync();
        Assert.Equal(1, usage.Blocks); // only 'a' at t = 1
        await run.AssertQuietAsync();
    }

    [Fact]
    public async Task EveryBlockIsBackInThePoolAfterTheRunEnded()
    {
        await using var run = Run.Start();
        await run.CallbackAsync(FiringRule.And, new WindowSpec("a", 3));
        await run.CallbackAsync(FiringRule.Or, new WindowSpec("a", 2), new WindowSpec("b"));
        await run.RegisterStripsAsync(2, "a", "b");

        var analytics = run.ReadToEndAsync();
        for (long t = 0; t < 6; t++)
        {
            await run.SendAllAsync(2, "a", t);
            if (t % 2 == 0) await run.SendAllAsync(2, "b", t);
        }
        await run.CloseAllAsync(2);
        var events = await analytics;

        Assert.IsType<RunEnded>(events[^1]);
        Assert.Empty(run.Held); // every delivered array was dropped before the end
        Assert.Equal(events.OfType<ArrayReady>().Count(), events.OfType<ArrayDropped>().Count());
        var usage = await run.UsageAsync();
        Assert.Equal((0L, 0, 0), (usage.InUse, usage.Blocks, usage.WaitingSends));
    }

    [Fact]
    public async Task SegmentsAreReusedSoMemoryStaysBoundedOverManyTimesteps()
    {
        await using var run = Run.Start(maxSimulationAhead: 1);
        await run.CallbackAsync(FiringRule.And, new WindowSpec("a", 2));
        await run.RegisterStripsAsync(2, "a");

        var analytics = run.ReadToEndAsync();
        var segments = new HashSet<string>();
        long maxAllocated = 0;
        for (long t = 0; t < 200; t++)
        {
            var slots = await Task.WhenAll(Enumerable.Range(0, 2).Select(async r =>
            {
                await run.AdmitAsync(r, "a", t).WaitAsync(Run.Timeout);
                return await run.WriteAsync(r, "a", t);
            }));
            foreach (var s in slots) segments.Add(s.Segment.Name);
            maxAllocated = Math.Max(maxAllocated, (await run.Node.UsageAsync()).Allocated);
        }
        await run.CloseAllAsync(2);
        await analytics;

        // At most three timesteps of two blocks live at once: the window (t - 1, t) and t + 1
        // being written; t + 2 waits for t + 1 to finish, after t - 1 was released.
        Assert.InRange(segments.Count, 4, 6);
        Assert.InRange(maxAllocated, 4 * 4096, 6 * 4096);
        var usage = await run.UsageAsync();
        Assert.Equal(0L, usage.InUse);
        Assert.Equal(segments.Count, usage.Segments); // kept for reuse, never destroyed and recreated
    }

    [Fact]
    public async Task ALongRunWithAPoolOfAFewBlocksCompletesWithoutGrowing()
    {
        // docs/specification.md §9, scaled down: one rank, 64 KiB blocks, a pool of 20 blocks, 240 timesteps, a
        // callback that keeps nothing.
        const long blockBytes = 64 << 10;
        await using var run = Run.Start(poolBytes: 20 * blockBytes);
        await run.AndAsync("a");
        await run.RegisterAsync(1, r => [new BlockDeclaration(r, "a", [blockBytes / 4], [blockBytes / 4], [0], DType.Int32)]);

        var analytics = run.ReadToEndAsync();
        for (long t = 0; t < 240; t++) await run.SendAsync(0, "a", t);
        await run.CloseAsync(0);
        var events = await analytics;

        Assert.IsType<RunEnded>(events[^1]);
        Assert.Equal(240, events.Due().Count);
        var usage = await run.UsageAsync();
        Assert.Equal(0L, usage.InUse);
        Assert.True(usage.Allocated <= 3 * blockBytes, $"allocated {usage.Allocated} bytes");
    }
}
