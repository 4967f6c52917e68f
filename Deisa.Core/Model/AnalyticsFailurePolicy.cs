namespace Deisa.Model;

/// <summary>What a bridge does when the analytics goes away (docs/specification.md §8).</summary>
public enum AnalyticsFailurePolicy
{
    /// <summary>Warn once; later sends are no-ops and feedback is "not found".</summary>
    Warn = 0,
    /// <summary>Every call fails with <see cref="DeisaStatus.AnalyticsLost"/>.</summary>
    Raise = 1,
    /// <summary>The simulation goes on while it may (its sends of the last
    /// <c>max_simulation_ahead</c> timesteps are kept by the bridge); past them, a send waits up
    /// to the timeout for a new analytics in the same rendezvous directory, which attaches to the
    /// running simulation and gets the kept blocks, from the oldest timestep every rank holds.</summary>
    Wait = 2,
}
