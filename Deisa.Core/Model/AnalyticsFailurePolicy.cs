namespace Deisa.Model;

/// <summary>What a bridge does when the analytics goes away (docs/specification.md §8).</summary>
public enum AnalyticsFailurePolicy
{
    /// <summary>Warn once; later sends are no-ops and feedback is "not found".</summary>
    Warn = 0,
    /// <summary>Every call fails with <see cref="DeisaStatus.AnalyticsLost"/>.</summary>
    Raise = 1,
}
