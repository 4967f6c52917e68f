using Deisa.Model;

namespace Deisa.SharedMemory;

/// <summary>
/// A run's back-pressure (docs/specification.md §3) in a small shared-memory segment, so that a
/// rank on the analytics' node can tell without a call that its send is admitted. Three
/// int64s, each on its own cache line: the newest timestep admitted so far (H), the last one
/// processed and gone (L), and the tickets (T): how many new timesteps may still be opened,
/// max_simulation_ahead minus those that hold one (pending, or being opened by a rank).
/// </summary>
/// <remarks>
/// A send of timestep t with L &lt; t ≤ H is admitted: a timestep older than an admitted one
/// always is. A newer t takes a ticket (compare-and-swap on T) and raises H; the send then tells
/// the head it holds one. Without a ticket, or with t ≤ L, the send asks the head, which waits
/// or names the error. The head owns the rest: it takes tickets for the timesteps it admits
/// itself, gives one back when a timestep that held one is processed, or when a rank's ticket
/// opened a timestep that another rank had opened meanwhile (at worst a ticket is held back a
/// moment too long: the simulation waits, it is never let further ahead).
/// </remarks>
public sealed unsafe class AdmissionBoard : IDisposable
{
    /// <summary>Size of the segment.</summary>
    public const long Bytes = 4096;

    private const long Magic = 0x3164726f42534944; // "DISBord1"
    private const int MagicAt = 0, NewestAt = 8, LastAt = 16, TicketsAt = 24; // in int64s (64 bytes apart)

    private readonly Segment _segment;

    private AdmissionBoard(Segment segment) => _segment = segment;

    /// <summary>The segment's name, which the ranks learn when they register.</summary>
    public string Name => _segment.Name;

    private long* Word(int index) => (long*)_segment.Address + index;

    /// <summary>Creates the board of a run that lets <paramref name="maxSimulationAhead"/> timesteps be pending.</summary>
    public static AdmissionBoard Create(string name, int maxSimulationAhead)
    {
        var board = new AdmissionBoard(Segment.Create(name, Bytes));
        *board.Word(NewestAt) = long.MinValue;
        *board.Word(LastAt) = long.MinValue;
        *board.Word(TicketsAt) = maxSimulationAhead;
        Volatile.Write(ref *board.Word(MagicAt), Magic); // last: a board is read only once complete
        return board;
    }

    /// <summary>Maps a run's board (a rank); null if it is not one (the rank then asks the head for every send).</summary>
    public static AdmissionBoard? Open(string name)
    {
        Segment segment;
        try { segment = Segment.Open(name, Bytes); }
        catch (DeisaException) { return null; }
        var board = new AdmissionBoard(segment);
        if (Volatile.Read(ref *board.Word(MagicAt)) == Magic) return board;
        board.Dispose();
        return null;
    }

    /// <summary>The newest timestep admitted so far (long.MinValue: none).</summary>
    public long NewestAdmitted => Volatile.Read(ref *Word(NewestAt));

    /// <summary>The last timestep processed and gone (long.MinValue: none).</summary>
    public long LastProcessed => Volatile.Read(ref *Word(LastAt));

    /// <summary>Tickets left: new timesteps that may be opened now.</summary>
    public long Tickets => Volatile.Read(ref *Word(TicketsAt));

    /// <summary>
    /// A rank's send of timestep <paramref name="t"/>: true if admitted now, with
    /// <paramref name="ticket"/> when it took a ticket to open a new timestep (the send must
    /// say so); false when the rank must ask the head.
    /// </summary>
    public bool TryAdmit(long t, out bool ticket)
    {
        ticket = false;
        if (t <= LastProcessed) return false; // the head names the error
        if (t <= NewestAdmitted) return true;
        if (!TryTakeTicket()) return false;
        ticket = true;
        RaiseNewest(t);
        return true;
    }

    /// <summary>Takes a ticket if one is left.</summary>
    public bool TryTakeTicket()
    {
        ref long tickets = ref *Word(TicketsAt);
        for (long k = Volatile.Read(ref tickets); k > 0; k = Volatile.Read(ref tickets))
            if (Interlocked.CompareExchange(ref tickets, k - 1, k) == k) return true;
        return false;
    }

    /// <summary>Gives a ticket back.</summary>
    public void ReturnTicket() => Interlocked.Increment(ref *Word(TicketsAt));

    /// <summary>Timestep <paramref name="t"/> was admitted (H only grows).</summary>
    public void RaiseNewest(long t) => RaiseTo(ref *Word(NewestAt), t);

    /// <summary>Timestep <paramref name="t"/> was processed and is gone (L only grows).</summary>
    public void RaiseLastProcessed(long t) => RaiseTo(ref *Word(LastAt), t);

    private static void RaiseTo(ref long word, long t)
    {
        for (long v = Volatile.Read(ref word); v < t; v = Volatile.Read(ref word))
            if (Interlocked.CompareExchange(ref word, t, v) == v) return;
    }

    /// <summary>Unmaps the board; its creator also removes it.</summary>
    public void Dispose() => _segment.Dispose();
}
