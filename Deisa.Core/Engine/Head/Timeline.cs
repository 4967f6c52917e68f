namespace Deisa.Engine.Head;

/// <summary>
/// The run's timesteps in order, from a rank's first send of one until it is gone, and
/// back-pressure: a timestep newer than every admitted one is admitted with a ticket, of which
/// there are <c>max_simulation_ahead</c> (<see cref="IAdmissionTickets"/>), given back once it
/// is processed; a send of a timestep that is not admitted waits for its admission.
/// </summary>
internal sealed class Timeline(IAdmissionTickets tickets)
{
    private readonly SortedDictionary<long, TimestepState> _timesteps = new();

    /// <summary>Timesteps pending now.</summary>
    public int Pending { get; private set; }

    /// <summary>The last timestep processed and gone.</summary>
    public long? LastProcessed { get; private set; }

    /// <summary>A timestep has come (a rank called send for one).</summary>
    public bool Started => _timesteps.Count > 0 || LastProcessed is not null;

    public bool IsEmpty => _timesteps.Count == 0;

    public IEnumerable<TimestepState> All => _timesteps.Values;

    /// <summary>The oldest timestep still here.</summary>
    public TimestepState First => _timesteps.First().Value;

    public bool TryGet(long t, out TimestepState state) => _timesteps.TryGetValue(t, out state!);

    /// <summary>Timestep <paramref name="t"/>, created at its first send.</summary>
    public TimestepState GetOrAdd(long t)
    {
        if (!_timesteps.TryGetValue(t, out var st)) _timesteps[t] = st = new TimestepState(t);
        return st;
    }

    /// <summary>
    /// Admits waiting timesteps, oldest first, while tickets are left. A timestep older than
    /// one already admitted is always admitted, without a ticket: it does not put the
    /// simulation further ahead, and the analytics must process it first anyway (without this,
    /// a rank that is behind would wait for a later timestep that waits for it).
    /// </summary>
    public void AdmitWaiting()
    {
        long newestAdmitted = long.MinValue;
        foreach (var st in _timesteps.Values)
            if (st.Admitted) newestAdmitted = st.T;
        foreach (var st in _timesteps.Values)
        {
            if (st.Phase != TimestepPhase.Waiting || st.AdmissionWaiters.Count == 0) continue;
            if (st.T > newestAdmitted)
            {
                if (!tickets.TryTake()) return;
                st.HoldsTicket = true;
                newestAdmitted = st.T;
            }
            Admit(st);
        }
    }

    /// <summary>
    /// A rank's send of <paramref name="st"/> came with a ticket it took itself (on the
    /// admission board, without a call): the timestep is admitted with it, unless it was
    /// admitted meanwhile (another rank's send opened it): the ticket goes back.
    /// </summary>
    public void AdmitWithTicket(TimestepState st)
    {
        if (st.Admitted)
        {
            tickets.Return();
            return;
        }
        st.HoldsTicket = true;
        Admit(st);
        AdmitWaiting(); // older timesteps waiting are admitted along
    }

    /// <summary>A ticket a rank took for a send the head refused goes back.</summary>
    public void ReturnTicket() => tickets.Return();

    private void Admit(TimestepState st)
    {
        st.Admit();
        Pending++;
        tickets.Admitted(st.T);
    }

    /// <summary>Its callbacks fired: the analytics runs them.</summary>
    public void Run(TimestepState st) => st.Run();

    /// <summary>Processed (its callbacks ran, or none fired): it no longer counts, and waiting timesteps may be admitted.</summary>
    public void Processed(TimestepState st)
    {
        if (st.Phase == TimestepPhase.Running) st.Finish();
        else st.Skip();
        Pending--;
        if (st.HoldsTicket)
        {
            st.HoldsTicket = false;
            tickets.Return();
        }
        AdmitWaiting();
    }

    /// <summary>The oldest timestep is processed and closed: it goes.</summary>
    public void RemoveFirst()
    {
        var st = First;
        _timesteps.Remove(st.T);
        LastProcessed = st.T;
        tickets.Processed(st.T);
    }
}
