using System.Diagnostics;
using Deisa.SharedMemory;
using Deisa.Transport;

namespace Deisa.Analytics;

/// <summary>
/// How a thread waiting for the run's next event (the Python, C and Fortran doors) waits: in
/// poll() on the event queue's eventfd and on the block channel connections of the ranks
/// whose next block completes an array (<see cref="HeadActor.HeadActor.AwaitedRanks"/>).
/// </summary>
/// <remarks>
/// When such a block comes, the waiting thread wakes up together with the connection's thread
/// instead of after it: it watches that thread handle the block (a few tens of microseconds)
/// and finds the event without a second wake-up, which after an idle pause costs as much as
/// the handling itself. A send that brings no event (another array, an acquire before its
/// commit) costs the waiting thread that watch; a rank whose connection stalls or ends is
/// not listened to again in this wait.
/// </remarks>
internal sealed class RankListener : IDisposable
{
    /// <summary>Longest the waiting thread watches a connection's thread handle a request.</summary>
    private static readonly long WatchTicks = Stopwatch.Frequency / 500; // 2 ms

    private const int MaxRanks = 16;

    private readonly EventQueue _events;
    private readonly HeadActor.HeadActor _head;
    private readonly BlockChannelServer _channel;
    private readonly int _wakeFd;

    private RankListener(EventQueue events, HeadActor.HeadActor head, BlockChannelServer channel, int wakeFd)
    {
        _events = events;
        _head = head;
        _channel = channel;
        _wakeFd = wakeFd;
        events.WakeFd = wakeFd;
    }

    /// <summary>A listener, or null where there is no eventfd (the reader then waits on the queue alone).</summary>
    public static RankListener? TryCreate(HeadActor.HeadActor head, BlockChannelServer channel)
    {
        if (!OperatingSystem.IsLinux()) return null;
        int fd = Libc.EventFd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        return fd < 0 ? null : new RankListener(head.Events, head, channel, fd);
    }

    /// <summary>Returns once an event is queued, or after <paramref name="wait"/>.</summary>
    public unsafe void Wait(TimeSpan wait)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * Stopwatch.Frequency);
        var fds = stackalloc Libc.PollFd[1 + MaxRanks];
        var connections = new BlockChannelServer.RankConnection?[MaxRanks];
        var handled = stackalloc long[MaxRanks];
        var ranks = stackalloc int[MaxRanks];
        List<int>? ignored = null; // ranks not listened to again in this wait
        while (!_events.HasEvent)
        {
            long left = deadline - Stopwatch.GetTimestamp();
            if (left <= 0) return;
            fds[0] = new Libc.PollFd { Fd = _wakeFd, Events = Libc.POLLIN };
            int n = 0;
            foreach (var rank in _head.AwaitedRanks)
            {
                if (n == MaxRanks || ignored?.Contains(rank) == true || _channel.ConnectionOf(rank) is not { } c) continue;
                int fd;
                try { fd = (int)c.Socket.Handle; }
                catch (ObjectDisposedException) { continue; }
                connections[n] = c;
                handled[n] = c.Handled;
                ranks[n] = rank;
                fds[1 + n++] = new Libc.PollFd { Fd = fd, Events = Libc.POLLIN };
            }
            _events.BeginListening();
            int ready;
            try
            {
                if (_events.HasEvent) return;
                ready = Libc.Poll(fds, (nuint)(1 + n), (int)Math.Min(int.MaxValue, left * 1000 / Stopwatch.Frequency + 1));
            }
            finally { _events.EndListening(); }
            if (ready < 0)
            {
                if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Libc.EINTR) continue;
                return; // the caller waits on the queue for the rest of the wait
            }
            if (fds[0].REvents != 0)
            {
                long count;
                Libc.Read(_wakeFd, &count, sizeof(long)); // reset: the next nudge wakes poll again
            }
            for (int i = 0; i < n; i++)
            {
                short r = fds[1 + i].REvents;
                if (r == 0) continue;
                if ((r & (Libc.POLLERR | Libc.POLLHUP | Libc.POLLNVAL)) != 0 || !Watch(connections[i]!, handled[i]))
                    (ignored ??= []).Add(ranks[i]);
            }
        }
    }

    /// <summary>Watches the connection's thread handle the request that woke this one: true once
    /// it did (or an event came), false if it took longer than <see cref="WatchTicks"/>.</summary>
    private bool Watch(BlockChannelServer.RankConnection connection, long handledBefore)
    {
        long until = Stopwatch.GetTimestamp() + WatchTicks;
        var spin = new SpinWait();
        while (!_events.HasEvent && connection.Handled == handledBefore)
        {
            if (Stopwatch.GetTimestamp() > until) return false;
            spin.SpinOnce(sleep1Threshold: -1);
        }
        return true;
    }

    public void Dispose()
    {
        _events.WakeFd = -1;
        Libc.Close(_wakeFd);
    }
}
