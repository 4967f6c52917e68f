using Deisa.Model;

namespace Deisa.Engine.Head;

/// <summary>One feedback value: its key, timestep and value.</summary>
public sealed record KeyedFeedback(string Key, long Timestep, FeedbackValue Value);

/// <summary>
/// Where the head writes down every feedback value set, so that a new analytics that takes
/// the running simulation over (the ranks' policy "wait") can give the ranks what this one had
/// set; the head knows no file, the hosting layer provides it.
/// </summary>
public interface IFeedbackJournal
{
    /// <summary>The values the lost analytics had set (oldest first).</summary>
    IReadOnlyList<KeyedFeedback> Inherited { get; }

    /// <summary>A value was set (or inherited and given to the ranks).</summary>
    void Append(KeyedFeedback entry);

    /// <summary>Every rank registered: the inherited values were taken (a continuing simulation) or not.</summary>
    void Settled();
}
