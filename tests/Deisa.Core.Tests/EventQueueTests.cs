namespace Deisa.Core.Tests;

/// <summary>
/// The head's events reach the analytics in order; a blocked reader is woken by the write; a
/// stopped run answers every later read with its last event, after the events queued before.
/// </summary>
public class EventQueueTests
{
    [Fact]
    public async Task Events_are_read_in_the_order_written_by_every_kind_of_read()
    {
        var q = new EventQueue();
        for (long t = 0; t < 4; t++) q.Write(new TimestepDone(t));
        Assert.True(q.TryPeek(out var peeked));
        Assert.Equal(new TimestepDone(0), peeked);
        Assert.True(q.TryRead(out var e0));
        Assert.Equal(new TimestepDone(0), e0);
        Assert.Equal(new TimestepDone(1), q.Read(TimeSpan.Zero));
        Assert.Equal(new TimestepDone(2), await q.ReadAsync(TimeSpan.Zero));
        Assert.Equal(new TimestepDone(3), await q.ReadAsync());
        Assert.False(q.TryRead(out _));
        Assert.False(q.TryPeek(out _));
    }

    [Fact]
    public void A_blocked_read_is_woken_by_a_write_and_a_quiet_one_times_out()
    {
        var q = new EventQueue();
        Assert.Null(q.Read(TimeSpan.FromMilliseconds(20)));
        var writer = new Thread(() => { Thread.Sleep(50); q.Write(new RunEnded()); });
        writer.Start();
        Assert.Equal(new RunEnded(), q.Read(TimeSpan.FromSeconds(30)));
        writer.Join();
    }

    [Fact]
    public async Task After_the_end_every_read_returns_the_last_event_once_the_queue_is_empty()
    {
        var q = new EventQueue();
        q.Write(new TimestepDone(7));
        var stopped = new RunFailed(DeisaStatus.State, "the run was stopped");
        q.Complete(stopped);
        q.Write(new TimestepDone(8)); // too late: nothing follows the end
        Assert.Equal(new TimestepDone(7), q.Read(TimeSpan.Zero));
        Assert.Equal(stopped, q.Read(TimeSpan.Zero));
        Assert.Equal(stopped, await q.ReadAsync(TimeSpan.Zero));
        Assert.True(q.TryRead(out var again));
        Assert.Equal(stopped, again);
    }

    [Fact]
    public async Task A_cancelled_read_throws()
    {
        var q = new EventQueue();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(20));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => q.ReadAsync(cts.Token));
    }
}
