namespace Deisa.Engine.Head;

/// <summary>
/// What the head knows of one timestep, from a rank's first send of it until it is gone: its
/// arrays, the sends waiting for its admission, how far its callbacks were decided, and its
/// <see cref="TimestepPhase"/>. Every change of phase is one of the methods below, each
/// allowed from the phases it names:
/// <code>
/// Waiting --Admit--> Admitted --Run--> Running --Finish--> Processed
///                    Admitted --Skip-----------------------^
/// </code>
/// </summary>
internal sealed class TimestepState(long t)
{
    public long T { get; } = t;
    public readonly SortedDictionary<string, ArrayAtTimestep> Arrays = new(StringComparer.Ordinal);
    /// <summary>Sends of this timestep waiting for its admission.</summary>
    public readonly List<TaskCompletionSource<bool>> AdmissionWaiters = new();
    /// <summary>Callbacks decided so far (fired or skipped), in registration order.</summary>
    public int NextCallback;
    /// <summary>Some callback fired at this timestep: the analytics must say when they ran.</summary>
    public bool AnyFired;
    /// <summary>It holds one of back-pressure's tickets (see <see cref="Timeline"/>) until processed.</summary>
    public bool HoldsTicket;

    public TimestepPhase Phase { get; private set; } = TimestepPhase.Waiting;

    /// <summary>It was admitted (its sends go on at once, also once it is processed).</summary>
    public bool Admitted => Phase != TimestepPhase.Waiting;

    /// <summary>Whether it counts against max_simulation_ahead.</summary>
    public bool IsPending => Phase is TimestepPhase.Admitted or TimestepPhase.Running;

    /// <summary>Waiting → Admitted: its sends go on.</summary>
    public void Admit()
    {
        Move(TimestepPhase.Waiting, TimestepPhase.Admitted);
        foreach (var w in AdmissionWaiters) w.TrySetResult(true);
        AdmissionWaiters.Clear();
    }

    /// <summary>Admitted → Running: every callback was decided, some fired.</summary>
    public void Run() => Move(TimestepPhase.Admitted, TimestepPhase.Running);

    /// <summary>Running → Processed: the analytics ran its callbacks.</summary>
    public void Finish() => Move(TimestepPhase.Running, TimestepPhase.Processed);

    /// <summary>Admitted → Processed: every callback was decided, none fired.</summary>
    public void Skip() => Move(TimestepPhase.Admitted, TimestepPhase.Processed);

    /// <summary>Its waiting sends fail with <paramref name="error"/> (the run stopped or failed).</summary>
    public void FailWaiters(Exception error)
    {
        foreach (var w in AdmissionWaiters) w.TrySetException(error);
    }

    private void Move(TimestepPhase from, TimestepPhase to)
    {
        if (Phase != from) throw new InvalidOperationException($"timestep {T}: {Phase} -> {to}, only {from} -> {to} is allowed");
        Phase = to;
    }
}
