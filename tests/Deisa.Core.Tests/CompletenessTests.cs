using Deisa.Engine.Head;
using Deisa.Model;

namespace Deisa.Core.Tests;

/// <summary>An array is complete at t once all its blocks for t arrived (docs/specification.md §4); nothing fires before.</summary>
public class CompletenessTests
{
    [Fact]
    public async Task CallbackIsNotDueUntilEveryBlockOfTheTimestepArrived()
    {
        await using var run = Run.Start();
        var cb = await run.AndAsync("a");
        await run.RegisterStripsAsync(3, "a");

        await run.SendAsync(0, "a", 0);
        await run.SendAsync(1, "a", 0);
        await run.AssertQuietAsync();

        await run.SendAsync(2, "a", 0);
        var ready = await run.ExpectAsync<ArrayReady>();
        Assert.Equal(("a", 0L), (ready.Name, ready.Timestep));
        Assert.Equal([0, 1, 2], ready.Blocks.Select(b => b.Rank));
        Assert.Equal([[0L], [1L], [2L]], ready.Blocks.Select(b => b.Position));
        var due = await run.ExpectAsync<CallbackDue>();
        Assert.Equal((cb, 0L), (due.CallbackId, due.Timestep));
        Assert.Equal([0L], due.Windows["a"]);
        Assert.Equal(0, (await run.ExpectAsync<TimestepDone>()).Timestep);
    }

    [Fact]
    public async Task AnAdmittedButUncommittedBlockDoesNotCount()
    {
        await using var run = Run.Start();
        await run.AndAsync("a");
        await run.RegisterStripsAsync(2, "a");

        await run.SendAsync(0, "a", 0);
        await run.AdmitAsync(1, "a", 0).WaitAsync(Run.Timeout); // announced and admitted, not written yet
        await run.AssertQuietAsync();

        await run.WriteAsync(1, "a", 0);
        await run.ExpectAsync<ArrayReady>();
        await run.ExpectAsync<CallbackDue>();
    }

    [Fact]
    public async Task TwoDimensionalBlocksAreDeliveredAtTheirGridPositions()
    {
        await using var run = Run.Start();
        await run.AndAsync("a");
        // docs/specification.md §9: global (2, 2), rank r at (r // 2, r % 2).
        await run.RegisterAsync(4, r => [new BlockDeclaration(r, "a", [2, 2], [1, 1], [r / 2, r % 2])]);

        for (int r = 3; r >= 1; r--) await run.SendAsync(r, "a", 7);
        await run.AssertQuietAsync();
        await run.SendAsync(0, "a", 7);

        var ready = await run.ExpectAsync<ArrayReady>();
        Assert.Equal([2L, 2], ready.GlobalShape);
        Assert.Equal([[1L, 1], [1L, 1]], ready.Chunks);
        Assert.Equal(4, ready.Blocks.Count);
        foreach (var b in ready.Blocks)
        {
            Assert.Equal([b.Rank / 2, (long)(b.Rank % 2)], b.Position);
            Assert.Equal([Run.ValueOf(b.Rank, 7)], run.Ints(b));
        }
        Assert.Equal(4 * 700 + (0 + 1 + 2 + 3), ready.Blocks.Sum(b => run.Ints(b)[0])); // sum over ranks of 100 t + r
        Assert.Equal(7, (await run.ExpectAsync<CallbackDue>()).Timestep);
    }

    [Fact]
    public async Task OnlyTimestepThreeSentRunsTheCallbackOnceAtThree()
    {
        await using var run = Run.Start();
        var cb = await run.AndAsync("a");
        await run.RegisterStripsAsync(2, "a");
        var analytics = run.ReadToEndAsync();
        await run.SendAllAsync(2, "a", 3);
        await run.CloseAllAsync(2);

        var events = await analytics;
        Assert.IsType<RunEnded>(events[^1]);
        var due = Assert.Single(events.Due());
        Assert.Equal((cb, 3L), (due.CallbackId, due.Timestep));
    }
}
