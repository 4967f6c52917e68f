using Deisa.Engine.Head;

namespace Deisa.Core.Tests;

/// <summary>Firing rules (docs/specification.md §4): AND as soon as complete, OR when the timestep closes, registration order.</summary>
public class FiringRuleTests
{
    [Fact]
    public async Task AndFiresAsSoonAsCompleteWithoutWaitingForTheTimestepToClose()
    {
        await using var run = Run.Start();
        var cb = await run.AndAsync("a");
        await run.RegisterStripsAsync(1, "a");

        await run.SendAsync(0, "a", 0); // no later send, no close: t=0 is not closed
        await run.ExpectAsync<ArrayReady>();
        var due = await run.ExpectAsync<CallbackDue>();
        Assert.Equal((cb, 0L), (due.CallbackId, due.Timestep));
        Assert.Equal(0, (await run.ExpectAsync<TimestepDone>()).Timestep);
    }

    [Fact]
    public async Task OrFiresOnlyWhenTheTimestepCloses()
    {
        await using var run = Run.Start(maxSimulationAhead: 2);
        var cb = await run.OrAsync("a");
        await run.RegisterStripsAsync(2, "a");

        await run.SendAllAsync(2, "a", 0);
        await run.AssertQuietAsync(); // complete, but not closed
        await run.SendAsync(0, "a", 1);
        await run.AssertQuietAsync(); // rank 1 has not gone past t=0 yet

        await run.AdmitAsync(1, "a", 1).WaitAsync(Run.Timeout); // the call closes t=0
        var due = (await run.ReadUntilAsync<TimestepDone>()).Due();
        Assert.Equal([(cb, 0L)], due.Select(d => (d.CallbackId, d.Timestep)));

        await run.WriteAsync(1, "a", 1);
        // t=1 is complete (so t=0 leaves the window of size 1) but not closed: no callback yet.
        Assert.Equal([new ArrayDropped("a", 0)], await run.DrainAsync());
        await run.CloseAsync(0);
        await run.AssertQuietAsync();
        await run.CloseAsync(1); // every bridge closed: t=1 closes
        var rest = await run.ReadToEndAsync();
        Assert.Equal([(cb, 1L)], rest.Due().Select(d => (d.CallbackId, d.Timestep)));
        Assert.IsType<RunEnded>(rest[^1]);
    }

    [Fact]
    public async Task AndRunsBeforeTheCloseAndOrAfterIt()
    {
        await using var run = Run.Start();
        var and = await run.AndAsync("a");
        var or = await run.OrAsync("a");
        await run.RegisterStripsAsync(1, "a");

        await run.SendAsync(0, "a", 0);
        await run.ExpectAsync<ArrayReady>();
        var first = await run.ExpectAsync<CallbackDue>();
        Assert.Equal((and, 0L), (first.CallbackId, first.Timestep));
        await run.AssertQuietAsync(); // OR waits for the close; the timestep is not done

        var admit = run.AdmitAsync(0, "a", 1); // closes t=0; admitted once t=0 is finished
        var second = await run.ExpectAsync<CallbackDue>();
        Assert.Equal((or, 0L), (second.CallbackId, second.Timestep));
        Assert.Equal(0, (await run.ExpectAsync<TimestepDone>()).Timestep);
        run.Head.FinishTimestep(0);
        await admit.WaitAsync(Run.Timeout);
    }

    [Fact]
    public async Task OrWithAlternatingArraysRunsOnceEveryInputWasSeenAndAndNever()
    {
        // docs/specification.md §9: array1 at even t only, array2 at odd t only, t = 0..4: OR runs 4 times, AND 0 times.
        await using var run = Run.Start();
        var or = await run.OrAsync("array1", "array2");
        var and = await run.AndAsync("array1", "array2");
        await run.RegisterStripsAsync(2, "array1", "array2");

        var analytics = run.ReadToEndAsync();
        for (long t = 0; t < 5; t++) await run.SendAllAsync(2, t % 2 == 0 ? "array1" : "array2", t);
        await run.CloseAllAsync(2);
        var events = await analytics;

        Assert.IsType<RunEnded>(events[^1]);
        Assert.Empty(events.Due(and));
        var due = events.Due(or);
        Assert.Equal([1L, 2, 3, 4], due.Select(d => d.Timestep)); // t=0: array2 never seen yet
        Assert.Equal([[0L], [2L], [2L], [4L]], due.Select(d => d.Windows["array1"])); // last window reused
        Assert.Equal([[1L], [1L], [3L], [3L]], due.Select(d => d.Windows["array2"]));
    }

    [Fact]
    public async Task OrAndAndBothRunEveryTimestepWhenEveryArrayIsSent()
    {
        await using var run = Run.Start();
        var or = await run.OrAsync("array1", "array2");
        var and = await run.AndAsync("array1", "array2");
        await run.RegisterStripsAsync(2, "array1", "array2");

        var analytics = run.ReadToEndAsync();
        for (long t = 0; t < 5; t++)
        {
            await run.SendAllAsync(2, "array1", t);
            await run.SendAllAsync(2, "array2", t);
        }
        await run.CloseAllAsync(2);
        var events = await analytics;

        Assert.Equal([0L, 1, 2, 3, 4], events.Due(or).Select(d => d.Timestep));
        Assert.Equal([0L, 1, 2, 3, 4], events.Due(and).Select(d => d.Timestep));
    }

    [Fact]
    public async Task AndSkipsATimestepThatClosesWithAnInputMissing()
    {
        await using var run = Run.Start();
        var cb = await run.AndAsync("a", "b");
        await run.RegisterStripsAsync(1, "a", "b");

        var analytics = run.ReadToEndAsync();
        await run.SendAsync(0, "a", 0);
        await run.SendAsync(0, "a", 1);
        await run.SendAsync(0, "b", 1);
        await run.CloseAsync(0);
        var events = await analytics;

        var due = Assert.Single(events.Due(cb));
        Assert.Equal(1, due.Timestep);
        Assert.Equal([1L], due.Windows["a"]);
        Assert.Equal([1L], due.Windows["b"]);
    }

    [Fact]
    public async Task CallbacksOfOneTimestepRunInRegistrationOrder()
    {
        await using var run = Run.Start();
        var first = await run.AndAsync("b");      // its input arrives last
        var second = await run.AndAsync("a");
        var third = await run.OrAsync("a", "b");
        var fourth = await run.AndAsync("a", "b");
        await run.RegisterStripsAsync(1, "a", "b");

        var analytics = run.ReadToEndAsync();
        for (long t = 0; t < 3; t++)
        {
            await run.SendAsync(0, "a", t);
            await run.SendAsync(0, "b", t);
        }
        await run.CloseAsync(0);
        var events = await analytics;

        for (long t = 0; t < 3; t++)
            Assert.Equal([first, second, third, fourth], events.Due().Where(d => d.Timestep == t).Select(d => d.CallbackId));
        Assert.Equal([0L, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2], events.Due().Select(d => d.Timestep));
    }
}
