using System.Collections.Concurrent;

namespace Deisa.Engine.Actors;

/// <summary>
/// Base of Deisa's actors: a mailbox of messages handled one at a time, in order, so an
/// actor's state needs no lock. Handlers never block; a request that must wait (for
/// back-pressure, for the pool) keeps a <see cref="TaskCompletionSource{T}"/> and completes it later.
/// </summary>
/// <remarks>
/// The actor has no thread of its own. A message posted to an idle actor runs at once on the
/// posting thread, which then runs the few that queued meanwhile; a busy actor's messages are
/// run by whichever thread is running it, and a long queue moves to the thread pool. A send
/// thus costs no thread wake-up per actor it crosses: after an idle pause, waking a parked
/// thread costs more than the whole handler. Handlers may post to other actors (they run
/// nested, at most one level per actor) and to their own (queued behind the current one).
/// </remarks>
public abstract class Actor : IAsyncDisposable
{
    /// <summary>Messages a posting thread runs before it hands the rest of the queue to the pool.</summary>
    private const int InlineBudget = 16;

    /// <summary>Messages a pool thread runs before it lets other work of the pool go first.</summary>
    private const int PoolBudget = 256;

    private readonly ConcurrentQueue<Action> _mailbox = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly PoolRunner _poolRunner;
    private int _running; // 1 while a thread runs this actor's messages
    private volatile bool _closed;

    /// <summary>Creates an idle actor.</summary>
    protected Actor() => _poolRunner = new PoolRunner(this);

    /// <summary>Queues a message; it runs after the ones before it, on this thread if the actor is idle.</summary>
    protected void Post(Action message)
    {
        if (_closed) throw new ObjectDisposedException(GetType().Name);
        _mailbox.Enqueue(message);
        if (Interlocked.CompareExchange(ref _running, 1, 0) == 0) Run(InlineBudget);
    }

    /// <summary>Runs <paramref name="message"/> in turn and returns its result.</summary>
    protected Task<T> Ask<T>(Func<T> message)
    {
        var tcs = NewCompletion<T>();
        Post(() =>
        {
            try { tcs.TrySetResult(message()); }
            catch (Exception e) { tcs.TrySetException(e); }
        });
        return tcs.Task;
    }

    /// <summary>Runs <paramref name="message"/> in turn; the task ends when it has run.</summary>
    protected Task Ask(Action message) => Ask<bool>(() => { message(); return true; });

    /// <summary>A completion whose continuations never run inside the actor's handler.</summary>
    protected static TaskCompletionSource<T> NewCompletion<T>() =>
        new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Called when a handler throws: the actor must never die of one message.</summary>
    protected virtual void OnHandlerError(Exception e) =>
        Console.Error.WriteLine($"deisa: {GetType().Name} handler failed: {e}");

    /// <summary>Runs queued messages; the caller owns the actor (set <see cref="_running"/>).</summary>
    private void Run(int budget)
    {
        for (int n = 0; n < budget && _mailbox.TryDequeue(out var message); n++)
        {
            try { message(); }
            catch (Exception e) { OnHandlerError(e); }
        }
        // The rest of a long queue goes to the pool, the actor still owned: the thread that
        // posted (a socket's reader, a caller) must not be kept by other callers' work.
        if (!_mailbox.IsEmpty) ThreadPool.UnsafeQueueUserWorkItem(_poolRunner, preferLocal: false);
        else Release();
    }

    private void Release()
    {
        Interlocked.Exchange(ref _running, 0);
        if (_mailbox.IsEmpty)
        {
            if (_closed) _drained.TrySetResult();
            return;
        }
        // A message came after the last look: run it on the pool, unless its poster got the actor.
        if (Interlocked.CompareExchange(ref _running, 1, 0) == 0)
            ThreadPool.UnsafeQueueUserWorkItem(_poolRunner, preferLocal: false);
    }

    /// <summary>Stops taking messages and waits for the queued ones to run.</summary>
    public virtual async ValueTask DisposeAsync()
    {
        _closed = true;
        if (Interlocked.CompareExchange(ref _running, 1, 0) == 0) Release();
        await _drained.Task.ConfigureAwait(false);
    }

    /// <summary>The pool's work item that runs an actor's queue (one per actor, reused).</summary>
    private sealed class PoolRunner(Actor actor) : IThreadPoolWorkItem
    {
        public void Execute() => actor.Run(PoolBudget);
    }
}
