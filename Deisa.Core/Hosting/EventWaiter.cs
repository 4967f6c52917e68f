using System.Diagnostics;
using Deisa.Engine.Head;
using Deisa.Platform;
using Deisa.Server;

namespace Deisa.Hosting;

/// <summary>
/// How a thread waiting for the run's next event (the Python, C and Fortran doors) waits: in
/// poll() on the event queue's eventfd, which an event signals, and so does the arrival of a
/// small block that completes an array (<see cref="HeadActor.AwaitedBlocks"/>),
/// before the connection's thread handles it.
/// </summary>
/// <remarks>
/// Woken at that arrival, the waiting thread is up when the array's event comes: it watches
/// the connection's thread handle the block (a few tens of microseconds) and finds the event
/// without being woken a second time, which after an idle pause costs as much as the handling
/// itself. Only the block that brings an event wakes it early, so a flood of sends costs it
/// no more wake-ups than their events do.
/// </remarks>
internal sealed class EventWaiter : ISendObserver, IDisposable
{
    /// <summary>Longest the waiting thread watches a connection's thread handle a request: about
    /// what a small block's handling takes after an idle pause. Beyond it, the thread waits to
    /// be woken by the event, and a flood of sends keeps it busy for no more than this each.</summary>
    private static readonly long WatchTicks = Stopwatch.Frequency / 5000; // 200 µs

    private readonly EventQueue _events;
    private readonly HeadActor _head;
    private readonly int _wakeFd;

    private EventWaiter(EventQueue events, HeadActor head, int wakeFd)
    {
        _events = events;
        _head = head;
        _wakeFd = wakeFd;
        events.WakeFd = wakeFd;
    }

    /// <summary>A waiter, or null where there is no eventfd (the reader then waits on the queue alone).</summary>
    public static EventWaiter? TryCreate(HeadActor head, BlockChannelServer channel)
    {
        if (!OperatingSystem.IsLinux()) return null;
        int fd = Libc.EventFd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        if (fd < 0) return null;
        var waiter = new EventWaiter(head.Events, head, fd);
        channel.Observer = waiter;
        return waiter;
    }

    /// <summary>Returns once an event is queued, or after <paramref name="wait"/>.</summary>
    public unsafe void Wait(TimeSpan wait)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * Stopwatch.Frequency);
        var fd = new Libc.PollFd { Fd = _wakeFd, Events = Libc.POLLIN };
        while (!_events.HasEvent)
        {
            long left = deadline - Stopwatch.GetTimestamp();
            if (left <= 0) return;
            _events.BeginListening();
            int ready;
            try
            {
                if (_events.HasEvent) return;
                ready = Libc.Poll(&fd, 1, (int)Math.Min(int.MaxValue, left * 1000 / Stopwatch.Frequency + 1));
            }
            finally { _events.EndListening(); }
            if (ready < 0)
            {
                if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Libc.EINTR) continue;
                return; // the caller waits on the queue for the rest of the wait
            }
            if (fd.REvents != 0)
            {
                long count;
                Libc.Read(_wakeFd, &count, sizeof(long)); // reset: the next nudge wakes poll again
            }
            if (Interlocked.Exchange(ref _incoming, null) is { } incoming) Watch(incoming.Connection, incoming.HandledBefore);
        }
    }

    private sealed record Incoming(RankConnection Connection, long HandledBefore);

    private Incoming? _incoming;

    /// <summary>
    /// A connection's thread, about to handle a small block's send: if that block completes an
    /// array, the waiting thread is woken now, to be up when the array's event comes.
    /// </summary>
    public void Arrives(int rank, string array, long timestep, RankConnection connection)
    {
        foreach (var b in _head.AwaitedBlocks)
            if (b.Rank == rank && b.Timestep == timestep && b.Array == array)
            {
                Volatile.Write(ref _incoming, new Incoming(connection, connection.Handled));
                _events.Nudge();
                return;
            }
    }

    /// <summary>Watches the connection's thread handle the request that woke this one, until it
    /// did, an event came, or <see cref="WatchTicks"/> passed.</summary>
    private void Watch(RankConnection connection, long handledBefore)
    {
        long until = Stopwatch.GetTimestamp() + WatchTicks;
        var spin = new SpinWait();
        while (!_events.HasEvent && connection.Handled == handledBefore && Stopwatch.GetTimestamp() <= until)
            spin.SpinOnce(sleep1Threshold: -1);
    }

    public void Dispose()
    {
        _events.WakeFd = -1;
        Libc.Close(_wakeFd);
    }
}
