using Deisa.Engine.Head;
using Deisa.Model;
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
    public void A_batch_read_takes_every_queued_event_in_order_and_stops_at_the_last()
    {
        var q = new EventQueue();
        var batch = new List<AnalyticsEvent>();
        Assert.Equal(0, q.ReadAvailable(TimeSpan.FromMilliseconds(20), batch));
        Assert.Empty(batch);
        for (long t = 0; t < 3; t++) q.Write(new TimestepDone(t));
        Assert.Equal(3, q.ReadAvailable(TimeSpan.Zero, batch));
        Assert.Equal([new TimestepDone(0), new TimestepDone(1), new TimestepDone(2)], batch);
        Assert.False(q.TryRead(out _));

        // The run's last event ends a batch, even when events were queued after it.
        batch.Clear();
        q.Write(new TimestepDone(3));
        q.Write(new RunEnded());
        q.Write(new TimestepDone(4));
        Assert.Equal(2, q.ReadAvailable(TimeSpan.Zero, batch));
        Assert.Equal([new TimestepDone(3), new RunEnded()], batch);

        // A stopped run: the queued events, then its last event once, not over and over.
        batch.Clear();
        var stopped = new RunFailed(DeisaStatus.State, "the run was stopped");
        q.Complete(stopped);
        Assert.Equal(2, q.ReadAvailable(TimeSpan.Zero, batch));
        Assert.Equal([new TimestepDone(4), stopped], batch);
    }

    [Fact]
    public void An_event_the_reader_refuses_stays_first_in_line_and_ends_the_batch()
    {
        var q = new EventQueue();
        for (long t = 0; t < 3; t++) q.Write(new TimestepDone(t));
        var taken = new List<AnalyticsEvent>();
        // Takes events until one is refused (as a full buffer refuses a record that does not fit).
        Assert.Equal(1, q.ReadAvailable(TimeSpan.Zero, e => { if (taken.Count == 1) return false; taken.Add(e); return true; }));
        Assert.Equal([new TimestepDone(0)], taken);
        Assert.Equal(0, q.ReadAvailable(TimeSpan.Zero, _ => false)); // refused first: nothing taken
        Assert.True(q.TryPeek(out var first));
        Assert.Equal(new TimestepDone(1), first);
        Assert.Equal(2, q.ReadAvailable(TimeSpan.Zero, e => { taken.Add(e); return true; }));
        Assert.Equal([new TimestepDone(0), new TimestepDone(1), new TimestepDone(2)], taken);
        Assert.Equal(0, q.ReadAvailable(TimeSpan.Zero, _ => true)); // empty: nothing came

        // The run's end refused, then read: it is still there, and still the last.
        var ended = new RunEnded();
        q.Complete(ended);
        Assert.Equal(0, q.ReadAvailable(TimeSpan.Zero, _ => false));
        Assert.Equal(ended, q.Read(TimeSpan.Zero));
        Assert.Equal(ended, q.Read(TimeSpan.Zero));
    }

    [Fact]
    public void A_blocked_batch_read_is_woken_by_a_write()
    {
        var q = new EventQueue();
        var writer = new Thread(() => { Thread.Sleep(50); q.Write(new TimestepDone(1)); });
        writer.Start();
        var batch = new List<AnalyticsEvent>();
        Assert.Equal(1, q.ReadAvailable(TimeSpan.FromSeconds(30), batch));
        Assert.Equal([new TimestepDone(1)], batch);
        writer.Join();
    }

    [Fact]
    public async Task A_cancelled_read_throws()
    {
        var q = new EventQueue();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(20));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => q.ReadAsync(cts.Token));
    }
}
