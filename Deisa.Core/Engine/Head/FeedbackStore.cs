using Deisa.Model;

namespace Deisa.Engine.Head;

/// <summary>
/// Feedback queues, one per key, holding the newest values by strictly increasing timestep.
/// Answers are consistent across ranks: the n-th query of a (key, timestep) returns the same
/// answer on every rank, whenever each rank asks — the first answer given is the answer, and a
/// rank polling again sees what the first rank to poll that often saw. Answers are remembered
/// for the newest <see cref="QueueSize"/> timesteps asked per key, so memory stays bounded
/// whatever the number of timesteps or polls. Not thread-safe: owned by the head actor.
/// </summary>
public sealed class FeedbackStore
{
    private const int MaxRememberedAnswers = 4096;

    /// <summary>The answers given for one (key, timestep), and how many each rank has had.</summary>
    private sealed class Answers
    {
        public readonly List<FeedbackAnswer> Given = new();
        public readonly Dictionary<int, int> AskedBy = new();
    }

    private readonly Dictionary<string, LinkedList<(long T, FeedbackValue V)>> _queues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedDictionary<long, Answers>> _byTimestep = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Answers> _lists = new(StringComparer.Ordinal);

    /// <summary>Creates the store; <paramref name="queueSize"/> entries are kept per key.</summary>
    public FeedbackStore(int queueSize) =>
        QueueSize = queueSize > 0 ? queueSize : throw new ArgumentOutOfRangeException(nameof(queueSize), queueSize, "at least 1 (AnalyticsOptions.Validate checks it)");

    /// <summary>Entries kept per key.</summary>
    public int QueueSize { get; }

    /// <summary>Sets <paramref name="key"/> at timestep <paramref name="t"/>; timesteps must strictly increase per key.</summary>
    public void Set(string key, long t, FeedbackValue value)
    {
        if (string.IsNullOrEmpty(key)) throw DeisaException.Value("feedback key must be a non-empty string");
        value.Validate();
        if (!_queues.TryGetValue(key, out var q)) _queues[key] = q = new();
        if (q.Last is { } last)
        {
            if (last.Value.T == t) throw DeisaException.Value($"feedback '{key}' has already been set for timestep {t}");
            if (last.Value.T > t) throw DeisaException.Value($"feedback '{key}': timestep {t} is older than timestep {last.Value.T} already set");
        }
        q.AddLast((t, value));
        while (q.Count > QueueSize) q.RemoveFirst();
    }

    /// <summary>The answer for <paramref name="rank"/>'s next query of (key, timestep).</summary>
    public FeedbackAnswer Get(int rank, string key, long? t)
    {
        Answers answers;
        if (t is { } ts)
        {
            if (!_byTimestep.TryGetValue(key, out var perT)) _byTimestep[key] = perT = new();
            if (!perT.TryGetValue(ts, out answers!))
            {
                perT[ts] = answers = new Answers();
                while (perT.Count > QueueSize) perT.Remove(perT.Keys.First()); // forget the oldest timestep asked
            }
        }
        else if (!_lists.TryGetValue(key, out answers!)) _lists[key] = answers = new Answers();

        int n = answers.AskedBy.GetValueOrDefault(rank);
        answers.AskedBy[rank] = n + 1;
        if (n < answers.Given.Count) return answers.Given[n];
        var answer = Lookup(key, t);
        // Past this many polls of one question answers are no longer remembered: memory stays
        // bounded, and such a long poll has long seen the value anyway.
        if (answers.Given.Count < MaxRememberedAnswers) answers.Given.Add(answer);
        return answer;
    }

    private FeedbackAnswer Lookup(string key, long? t)
    {
        if (!_queues.TryGetValue(key, out var q)) return new(null, null);
        if (t is null) return new(null, q.Select(e => (e.T, e.V)).ToList());
        foreach (var e in q) if (e.T == t) return new(e.V, null);
        return new(null, null);
    }
}
