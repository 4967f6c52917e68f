namespace Deisa.Model;

/// <summary>
/// The answer to a feedback query: for one timestep, <see cref="Value"/> (null when not set);
/// without a timestep, the retained <see cref="Entries"/> (null when the key was never set).
/// </summary>
public sealed record FeedbackAnswer(FeedbackValue? Value, IReadOnlyList<(long Timestep, FeedbackValue Value)>? Entries);
