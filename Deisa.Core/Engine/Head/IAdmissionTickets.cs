namespace Deisa.Engine.Head;

/// <summary>
/// Back-pressure's tickets (docs/specification.md §3): a new timestep, newer than every admitted
/// one, is admitted only with a ticket, and there are max_simulation_ahead of them; a timestep
/// gives its ticket back once processed. Kept by the head alone (<see cref="CountedTickets"/>),
/// or in shared memory where the ranks of the analytics' node take them too, without a call
/// (Hosting's admission board).
/// </summary>
public interface IAdmissionTickets
{
    /// <summary>Takes a ticket if one is left.</summary>
    bool TryTake();

    /// <summary>Gives a ticket back.</summary>
    void Return();

    /// <summary>Timestep <paramref name="t"/> was admitted.</summary>
    void Admitted(long t);

    /// <summary>Timestep <paramref name="t"/> was processed and is gone.</summary>
    void Processed(long t);
}

/// <summary>Tickets the head alone takes and gives back.</summary>
internal sealed class CountedTickets(int count) : IAdmissionTickets
{
    private int _left = count;

    public bool TryTake()
    {
        if (_left <= 0) return false;
        _left--;
        return true;
    }

    public void Return() => _left++;

    public void Admitted(long t) { }

    public void Processed(long t) { }
}
