using Deisa.Model;
namespace Deisa.Analytics;

/// <summary>
/// How a callback is run (docs/specification.md §4 <c>register_callback(..., when=, exception_handler=)</c>).
/// A <see cref="FiringRule"/> converts to options with that rule.
/// </summary>
public sealed record CallbackOptions
{
    /// <summary>When the callback runs for a timestep (default <see cref="FiringRule.And"/>).</summary>
    public FiringRule When { get; init; } = FiringRule.And;

    /// <summary>Name in logs and errors; null = the method's name.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// Called with an exception the callback threw and the inputs it ran with; return true to go
    /// on with the run, false to stop it (<see cref="AnalyticsHost.RunAsync"/> then throws the
    /// exception). Null (the default, as in the Python door): a <see cref="TimeoutException"/>
    /// stops the run, any other exception is written to <see cref="AnalyticsHost.Log"/> (or
    /// standard error) and the run goes on.
    /// </summary>
    public Func<Exception, CallbackInputs, bool>? OnError { get; init; }

    /// <summary>Options whose callbacks stop the run at their first exception.</summary>
    public static CallbackOptions FailFast { get; } = new() { OnError = static (_, _) => false };

    /// <summary>Options with firing rule <paramref name="when"/>.</summary>
    public static implicit operator CallbackOptions(FiringRule when) => new() { When = when };
}
