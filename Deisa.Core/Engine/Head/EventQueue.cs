using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Deisa.Platform;

namespace Deisa.Engine.Head;

/// <summary>
/// The events the head tells the analytics, in order (one writer, the head). A reader blocked
/// in <see cref="Read"/> (the Python, C and Fortran doors, waiting in a native call) is woken
/// by the writer itself, without a thread-pool hop in between; <see cref="ReadAsync(CancellationToken)"/>'s
/// continuations always run on the pool, never inside the head's handler.
/// </summary>
public sealed class EventQueue
{
    private readonly ConcurrentQueue<AnalyticsEvent> _events = new();
    private readonly SemaphoreSlim _available = new(0); // one count per queued event, one more once ended
    private AnalyticsEvent? _last;
    private RunFailed? _failure;
    private int _wakeFd = -1; // a reader's eventfd, signalled while it listens (see EventWaiter)
    private int _listening;

    /// <summary>Queues an event (the head's loop only).</summary>
    internal void Write(AnalyticsEvent e)
    {
        if (Volatile.Read(ref _last) is not null) return;
        if (e is RunFailed failed) Interlocked.CompareExchange(ref _failure, failed, null);
        _events.Enqueue(e);
        _available.Release();
        Nudge();
    }

    /// <summary>No event comes after these: once the queue is empty, every read returns <paramref name="last"/>.</summary>
    internal void Complete(AnalyticsEvent last)
    {
        if (last is RunFailed failed) Interlocked.CompareExchange(ref _failure, failed, null);
        if (Interlocked.CompareExchange(ref _last, last, null) is null) _available.Release();
        Nudge();
    }

    /// <summary>Why the run failed (the first failure told), or null.</summary>
    public RunFailed? Failure => Volatile.Read(ref _failure);

    /// <summary>Whether a read would find an event now.</summary>
    internal bool HasEvent => _available.CurrentCount > 0;

    /// <summary>The eventfd <see cref="Nudge"/> signals while a reader listens; -1: none.</summary>
    internal int WakeFd
    {
        get => Volatile.Read(ref _wakeFd);
        set => Volatile.Write(ref _wakeFd, value);
    }

    /// <summary>A reader is about to wait in poll() on <see cref="WakeFd"/>: the writes from now
    /// on signal it. It checks <see cref="HasEvent"/> after this, so no write is missed.</summary>
    internal void BeginListening() => Interlocked.Exchange(ref _listening, 1);

    internal void EndListening() => Volatile.Write(ref _listening, 0);

    /// <summary>Wakes a listening reader: an event came, or the block that brings one arrives.</summary>
    internal unsafe void Nudge()
    {
        Interlocked.MemoryBarrier(); // the event's count is visible before the flag is read
        if (Volatile.Read(ref _listening) == 0 || WakeFd is not (>= 0 and var fd)) return;
        long one = 1;
        Libc.Write(fd, &one, sizeof(long)); // a full counter only means "already signalled"
    }

    /// <summary>The next event if one is queued.</summary>
    public bool TryRead([MaybeNullWhen(false)] out AnalyticsEvent e)
    {
        if (!_available.Wait(0)) { e = null; return false; }
        e = Take();
        return true;
    }

    /// <summary>The next event without taking it.</summary>
    public bool TryPeek([MaybeNullWhen(false)] out AnalyticsEvent e)
    {
        if (_events.TryPeek(out e)) return true;
        e = Volatile.Read(ref _last);
        return e is not null;
    }

    /// <summary>Blocks up to <paramref name="wait"/> for the next event; null if none came.</summary>
    public AnalyticsEvent? Read(TimeSpan wait, CancellationToken ct = default) =>
        _available.Wait(wait, ct) ? Take() : null;

    /// <summary>
    /// Blocks up to <paramref name="wait"/> for the next event, then adds it and the events
    /// queued behind it to <paramref name="into"/> without waiting for more (a run's last
    /// event ends the batch). Returns how many were added: 0 if none came.
    /// </summary>
    public int ReadAvailable(TimeSpan wait, List<AnalyticsEvent> into, CancellationToken ct = default) =>
        ReadAvailable(wait, e => { into.Add(e); return true; }, ct);

    /// <summary>
    /// As <see cref="ReadAvailable(TimeSpan, List{AnalyticsEvent}, CancellationToken)"/>, handing
    /// each event to <paramref name="take"/>: an event it refuses (false) stays queued, first
    /// in line, and ends the batch. Returns how many it took: 0 if none came or it refused
    /// the first. For one reader at a time.
    /// </summary>
    public int ReadAvailable(TimeSpan wait, Func<AnalyticsEvent, bool> take, CancellationToken ct = default)
    {
        if (!_available.Wait(wait, ct)) return 0;
        int n = 0;
        while (true)
        {
            // The count held promises an event: the queue's first, or the end once it is empty.
            var e = _events.TryPeek(out var first) ? first : _last!;
            if (!take(e))
            {
                _available.Release(); // not taken: its count goes back with it
                return n;
            }
            Take();
            n++;
            if (e is RunEnded or RunFailed || !_available.Wait(0)) return n;
        }
    }

    /// <summary>Waits up to <paramref name="wait"/> for the next event; null if none came.</summary>
    public async Task<AnalyticsEvent?> ReadAsync(TimeSpan wait, CancellationToken ct = default) =>
        await _available.WaitAsync(wait, ct).ConfigureAwait(false) ? Take() : null;

    /// <summary>Waits for the next event.</summary>
    public async Task<AnalyticsEvent> ReadAsync(CancellationToken ct = default)
    {
        await _available.WaitAsync(ct).ConfigureAwait(false);
        return Take();
    }

    private AnalyticsEvent Take()
    {
        if (_events.TryDequeue(out var e)) return e;
        // Ended and empty: the count taken was the end's; put it back for the next reader.
        _available.Release();
        return _last!;
    }
}
