namespace Deisa.Engine.Head;

/// <summary>Where a timestep is, from a rank's first send of it until it is gone (see <see cref="TimestepState"/>).</summary>
internal enum TimestepPhase
{
    /// <summary>A rank called send for it, but it is not admitted: its sends wait for back-pressure.</summary>
    Waiting,
    /// <summary>Admitted: it counts against max_simulation_ahead while its blocks arrive and its callbacks are decided.</summary>
    Admitted,
    /// <summary>Every callback was decided and some fired: the analytics runs them; it still counts.</summary>
    Running,
    /// <summary>Its callbacks ran, or none fired: it no longer counts, and goes once it closes.</summary>
    Processed,
}
