using Grpc.Core;
using Deisa.Model;
using Deisa.Protocol;
using Deisa.Protocol.Messages;

namespace Deisa.Simulation;

/// <summary>
/// A bridge's connection to the analytics: the control client (gRPC), its node's block channel,
/// and the attach stream whose end tells that the analytics went away; and what the bridge does
/// then (<see cref="AnalyticsFailurePolicy"/>). Its state (open, lost, interrupted, closed) is one
/// field that the rank's thread, the attach stream's watch and an interrupting thread change
/// atomically: a close is never taken for a loss, and the first reason for a loss is the one reported.
/// </summary>
internal sealed class AnalyticsLink : IDisposable
{
    private const int Open = 0, Lost = 1, Closed = 2, Interrupted = 3;

    private readonly int _rank;
    private readonly AnalyticsFailurePolicy _policy;
    private int _state;
    private string? _lostReason;
    private int _warned;
    private ControlClient? _control;
    private BlockChannel? _blocks;
    private AsyncServerStreamingCall<Notice>? _attach;
    private readonly CancellationTokenSource _interrupt = new();

    public AnalyticsLink(int rank, AnalyticsFailurePolicy policy)
    {
        _rank = rank;
        _policy = policy;
    }

    /// <summary>True once the analytics went away (and the bridge was not closed before).</summary>
    public bool IsLost => Volatile.Read(ref _state) == Lost;

    /// <summary>True while connected (or connecting): neither lost, interrupted nor closed.</summary>
    public bool IsOpen => Volatile.Read(ref _state) == Open;

    /// <summary>Cancelled when the link is interrupted: every wait of the bridge watches it.</summary>
    public CancellationToken Interruption => _interrupt.Token;

    /// <summary>The session token of the analytics this link found (after <see cref="Connect"/> began).</summary>
    public string? Token { get; private set; }

    /// <summary>Why the analytics was lost (once it was).</summary>
    public string LostReason => Volatile.Read(ref _lostReason) ?? "the analytics has stopped";

    /// <summary>The control calls (after <see cref="Connect"/>).</summary>
    public ControlClient Control => _control ?? throw new InvalidOperationException("not connected");

    /// <summary>The block channel (after <see cref="Connect"/>, unless the analytics went away while the ranks registered).</summary>
    public BlockChannel Blocks => _blocks ?? throw new InvalidOperationException("not connected");

    /// <summary>
    /// Finds the analytics, attaches and registers this rank (collective: returns once every
    /// rank registered), then connects to the node's block channel. Returns the registration's
    /// answer, or null when the analytics went away meanwhile and the policy lets the
    /// simulation go on alone.
    /// </summary>
    public RegisterReply? Connect(BridgeOptions options, RegisterRequest request, DateTime deadline)
    {
        string address, token;
        try { (address, token) = AnalyticsLocator.Find(options, deadline, _interrupt.Token); }
        catch (OperationCanceledException) { throw InterruptedError(); }
        Token = token;
        _control = new ControlClient(address, token, _interrupt.Token);
        // Attach before registering: from now on the head learns of this rank's death, even
        // while the registration waits for the other ranks.
        _attach = _control.Client.Attach(new AttachRequest { Rank = _rank }, _control.Options);
        try { _control.Call((_, _) => _attach.ResponseStream.MoveNext(_interrupt.Token).GetAwaiter().GetResult()); }
        catch (Exception e) when (IsInterrupted && e is DeisaException or OperationCanceledException) { throw InterruptedError(); }
        _ = WatchAsync(_attach);
        request.TimeoutMs = Math.Max(1, (long)(deadline - DateTime.UtcNow).TotalMilliseconds);
        RegisterReply? reply = null;
        if (!Guard(() => reply = _control.Call((c, h) => c.Register(request, h)))) return null;
        if (!Guard(() => _blocks = BlockChannel.Connect(reply!.BlockChannel, token, _rank, deadline, _interrupt.Token))) return null;
        return reply;
    }

    /// <summary>The attach stream ends when the analytics goes away (or this bridge closes it).</summary>
    private async Task WatchAsync(AsyncServerStreamingCall<Notice> call)
    {
        try { while (await call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false)) { } }
        catch (Exception) { }
        Lose("the analytics has stopped");
    }

    /// <summary>The analytics went away: from now on calls apply the policy (unless the bridge was closed first).</summary>
    public void Lose(string reason)
    {
        Interlocked.CompareExchange(ref _lostReason, reason, null);
        Interlocked.CompareExchange(ref _state, Lost, Open);
    }

    /// <summary>
    /// Runs <paramref name="call"/>, unless the analytics went away; if it goes during the
    /// call, remembers it. Either way the policy then applies: it throws
    /// (<see cref="AnalyticsFailurePolicy.Raise"/>) or warns once and returns false: the
    /// call is a no-op (<see cref="AnalyticsFailurePolicy.Warn"/>).
    /// </summary>
    public bool Guard(Action call)
    {
        if (IsOpen)
        {
            try
            {
                call();
                return true;
            }
            catch (Exception e) when (IsInterrupted && e is DeisaException or OperationCanceledException) { }
            catch (DeisaException e) when (e.Status == DeisaStatus.AnalyticsLost) { Lose(e.Message); }
        }
        if (IsInterrupted) throw InterruptedError();
        var why = LostReason;
        if (_policy == AnalyticsFailurePolicy.Raise) throw new DeisaException(DeisaStatus.AnalyticsLost, $"rank {_rank}: {why}");
        if (Interlocked.Exchange(ref _warned, 1) == 0)
            Console.Error.WriteLine(_policy == AnalyticsFailurePolicy.Wait
                ? $"deisa: warning: rank {_rank}: {why}; the simulation continues, its blocks of the last timesteps kept for a new analytics in the same rendezvous directory"
                : $"deisa: warning: rank {_rank}: {why}; the simulation continues and sends are ignored");
        return false;
    }

    private bool IsInterrupted => Volatile.Read(ref _state) == Interrupted;

    private DeisaException InterruptedError() =>
        new(DeisaStatus.Interrupted, $"rank {_rank}: the bridge was interrupted and is disconnected (the analytics sees this rank gone)");

    /// <summary>
    /// Ends the wait in progress on the rank's thread (from any other thread: a signal's
    /// handling) and disconnects: a block channel call waiting for its answer sees its socket
    /// shut down, the control calls and waits are cancelled. The analytics sees the rank gone;
    /// every later call fails with <see cref="DeisaStatus.Interrupted"/>, also on a link that
    /// was lost before. A closed link is left as it is.
    /// </summary>
    public void Interrupt()
    {
        if (Interlocked.CompareExchange(ref _state, Interrupted, Open) != Open
            && Interlocked.CompareExchange(ref _state, Interrupted, Lost) != Lost) return;
        _interrupt.Cancel();
        _blocks?.Shutdown();
        _attach?.Dispose();
    }

    /// <summary>The bridge closed: the stream's end that follows is not a loss. Closes every connection.</summary>
    public void Dispose()
    {
        Interlocked.CompareExchange(ref _state, Closed, Open);
        _attach?.Dispose();
        _blocks?.Dispose();
        _control?.Dispose();
    }
}
