using System.Threading.Channels;

namespace Deisa.Actors;

/// <summary>
/// Base of Deisa's actors: a mailbox of messages handled one at a time on the actor's own loop,
/// so an actor's state needs no lock. Handlers never block; a request that must wait (for
/// back-pressure, for the pool) keeps a <see cref="TaskCompletionSource{T}"/> and completes it later.
/// </summary>
public abstract class Actor : IAsyncDisposable
{
    private readonly Channel<Action> _mailbox =
        Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;

    /// <summary>Starts the actor's loop.</summary>
    protected Actor() => _loop = Task.Run(RunAsync);

    /// <summary>Queues a message; it runs on the actor's loop after the ones before it.</summary>
    protected void Post(Action message)
    {
        if (!_mailbox.Writer.TryWrite(message))
            throw new ObjectDisposedException(GetType().Name);
    }

    /// <summary>Runs <paramref name="message"/> on the loop and returns its result.</summary>
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

    /// <summary>Runs <paramref name="message"/> on the loop; the task ends when it has run.</summary>
    protected Task Ask(Action message) => Ask<bool>(() => { message(); return true; });

    /// <summary>A completion whose continuations never run inline on the actor's loop.</summary>
    protected static TaskCompletionSource<T> NewCompletion<T>() =>
        new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Called when a handler throws: the actor must never die of one message.</summary>
    protected virtual void OnHandlerError(Exception e) =>
        Console.Error.WriteLine($"deisa: {GetType().Name} handler failed: {e}");

    private async Task RunAsync()
    {
        var reader = _mailbox.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
            while (reader.TryRead(out var message))
            {
                try { message(); }
                catch (Exception e) { OnHandlerError(e); }
            }
    }

    /// <summary>Stops taking messages and waits for the queued ones to run.</summary>
    public virtual async ValueTask DisposeAsync()
    {
        _mailbox.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }
}
