using Deisa.Engine.Head;
using Deisa.Model;

namespace Deisa.Core.Tests;

/// <summary>Windows: the last <c>size</c> timesteps, oldest first, shorter at the start; dropped once no window holds them.</summary>
public class WindowTests
{
    [Fact]
    public async Task WindowOfTwoHasLengthOneThenTwoWithTheLastTimestepsOldestFirst()
    {
        await using var run = Run.Start();
        var cb = await run.CallbackAsync(FiringRule.And, new WindowSpec("a", 2));
        await run.RegisterStripsAsync(2, "a");

        var analytics = run.ReadToEndAsync();
        for (long t = 0; t < 5; t++) await run.SendAllAsync(2, "a", t);
        await run.CloseAllAsync(2);
        var events = await analytics;

        Assert.IsType<RunEnded>(events[^1]);
        var windows = events.Due(cb).Select(d => d.Windows["a"]).ToList();
        Assert.Equal([[0L], [0L, 1], [1L, 2], [2L, 3], [3L, 4]], windows);
        // docs/specification.md §9: (w[1] - w[0]).sum() == 3 with rank r sending t * (r + 1); here the blocks hold 100 t + r.
        foreach (var due in events.Due(cb).Skip(1))
        {
            var w = due.Windows["a"];
            int Sum(long t) => run.Contents[("a", t)].Sum(block => block.Sum());
            Assert.Equal(2 * 100, Sum(w[1]) - Sum(w[0]));
        }
    }

    [Fact]
    public async Task EachArrayIsDeliveredOnceAndDroppedWhenItLeavesTheWindow()
    {
        await using var run = Run.Start();
        await run.CallbackAsync(FiringRule.And, new WindowSpec("a", 2));
        await run.RegisterStripsAsync(1, "a");

        await run.SendAsync(0, "a", 0);
        await run.ReadUntilAsync<TimestepDone>();
        await run.SendAsync(0, "a", 1);
        var events = await run.ReadUntilAsync<TimestepDone>(finish: false);
        // t=0 is still in the window: not delivered again, not dropped.
        Assert.Equal([1L], events.OfType<ArrayReady>().Select(a => a.Timestep));
        await run.AssertQuietAsync();

        // Once t=1 is finished, t=0 can be in no future window of size 2.
        run.Head.FinishTimestep(1);
        Assert.Equal(new ArrayDropped("a", 0), await run.ExpectAsync<ArrayDropped>());
        Assert.Equal([("a", 1L)], run.Held.Keys);
    }

    [Fact]
    public async Task AnEntryIsDroppedOnlyWhenItLeavesAllWindows()
    {
        await using var run = Run.Start();
        var small = await run.AndAsync("a");
        var large = await run.CallbackAsync(FiringRule.And, new WindowSpec("a", 3));
        await run.RegisterStripsAsync(1, "a");

        var events = new List<AnalyticsEvent>();
        for (long t = 0; t < 4; t++)
        {
            await run.SendAsync(0, "a", t);
            events.AddRange(await run.ReadUntilAsync<TimestepDone>());
        }
        await run.DrainAsync();

        Assert.Equal([[0L], [1L], [2L], [3L]], events.Due(small).Select(d => d.Windows["a"]));
        Assert.Equal([[0L], [0L, 1], [0L, 1, 2], [1L, 2, 3]], events.Due(large).Select(d => d.Windows["a"]));
        // t=0 stays held while the window of size 3 can still use it: dropped only once t=2 finished.
        var log = run.Log;
        int dropped0 = log.IndexOf(e => e is ArrayDropped { Timestep: 0 });
        Assert.True(dropped0 > log.IndexOf(e => e is TimestepDone { Timestep: 2 }), Run.Describe(log));
        Assert.True(dropped0 < log.IndexOf(e => e is ArrayReady { Timestep: 3 }), Run.Describe(log));
    }

    [Fact]
    public async Task WindowOfOneIsDroppedAsSoonAsItsTimestepFinished()
    {
        await using var run = Run.Start();
        await run.AndAsync("a");
        await run.RegisterStripsAsync(1, "a");

        await run.SendAsync(0, "a", 0);
        await run.ExpectAsync<ArrayReady>();
        await run.ExpectAsync<CallbackDue>();
        await run.ExpectAsync<TimestepDone>();
        await run.AssertQuietAsync(); // held until the analytics reports the callbacks ran
        run.Head.FinishTimestep(0);
        Assert.Equal(new ArrayDropped("a", 0), await run.ExpectAsync<ArrayDropped>());
        Assert.Empty(run.Held);
        var pool = await run.UsageAsync();
        Assert.Equal((0L, 0), (pool.InUse, pool.Blocks));
    }

    [Fact]
    public async Task OrWindowsReuseTheLastWindowOfAnInputWithoutANewValue()
    {
        await using var run = Run.Start();
        var cb = await run.CallbackAsync(FiringRule.Or, new WindowSpec("a", 2), new WindowSpec("b", 2));
        await run.RegisterStripsAsync(1, "a", "b");

        // a at t = 0, 1, 3; b at t = 0, 2.
        var analytics = run.ReadToEndAsync();
        await run.SendAsync(0, "a", 0);
        await run.SendAsync(0, "b", 0);
        await run.SendAsync(0, "a", 1);
        await run.SendAsync(0, "b", 2);
        await run.SendAsync(0, "a", 3);
        await run.CloseAsync(0);
        var events = await analytics;

        var due = events.Due(cb);
        Assert.Equal([0L, 1, 2, 3], due.Select(d => d.Timestep));
        Assert.Equal([[0L], [0L, 1], [0L, 1], [1L, 3]], due.Select(d => d.Windows["a"]));
        Assert.Equal([[0L], [0L], [0L, 2], [0L, 2]], due.Select(d => d.Windows["b"]));
    }
}
