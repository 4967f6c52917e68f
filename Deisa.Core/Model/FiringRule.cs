namespace Deisa.Model;

/// <summary>When a callback runs for a timestep (docs/specification.md §4).</summary>
public enum FiringRule
{
    /// <summary>As soon as every input array is complete at the timestep.</summary>
    And = 0,
    /// <summary>When the timestep closes, if at least one input has a new value.</summary>
    Or = 1,
}
