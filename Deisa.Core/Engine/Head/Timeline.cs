namespace Deisa.Engine.Head;

/// <summary>
/// The run's timesteps in order, from a rank's first send of one until it is gone, and
/// back-pressure: at most <c>max_simulation_ahead</c> of them are pending (admitted and not yet
/// processed); a send of a timestep that is not pending waits for its admission.
/// </summary>
internal sealed class Timeline(int maxSimulationAhead)
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
    /// Admits waiting timesteps, oldest first, while fewer than max_simulation_ahead are
    /// pending. A timestep older than one already pending is always admitted: it does not put
    /// the simulation further ahead, and the analytics must process it first anyway (without
    /// this, a rank that is behind would wait for a later timestep that waits for it).
    /// </summary>
    public void AdmitWaiting()
    {
        long newestPending = long.MinValue;
        foreach (var st in _timesteps.Values)
            if (st.IsPending) newestPending = st.T;
        foreach (var st in _timesteps.Values)
        {
            if (st.Phase != TimestepPhase.Waiting || st.AdmissionWaiters.Count == 0) continue;
            if (Pending >= maxSimulationAhead && st.T > newestPending) return;
            st.Admit();
            Pending++;
        }
    }

    /// <summary>Its callbacks fired: the analytics runs them.</summary>
    public void Run(TimestepState st) => st.Run();

    /// <summary>Processed (its callbacks ran, or none fired): it no longer counts, and waiting timesteps may be admitted.</summary>
    public void Processed(TimestepState st)
    {
        if (st.Phase == TimestepPhase.Running) st.Finish();
        else st.Skip();
        Pending--;
        AdmitWaiting();
    }

    /// <summary>The oldest timestep is processed and closed: it goes.</summary>
    public void RemoveFirst()
    {
        var st = First;
        _timesteps.Remove(st.T);
        LastProcessed = st.T;
    }
}
