using Deisa.Errors;

namespace Deisa.Feedback;

/// <summary>
/// Feedback queues, one per key, holding the newest values by strictly increasing timestep.
/// Answers are consistent across ranks: the n-th query of a (key, timestep) returns the same
/// answer on every rank, whenever each rank asks — the first answer given is the answer, and a
/// rank polling again sees what the first rank to poll that often saw. Not thread-safe: owned
/// by the head actor.
/// </summary>
public sealed class FeedbackStore(int queueSize)
{
    private const int MaxRememberedAnswers = 4096;
    private readonly Dictionary<string, LinkedList<(long T, FeedbackValue V)>> _queues = new();
    private readonly Dictionary<(string Key, long? T), List<FeedbackAnswer>> _answers = new();
    private readonly Dictionary<(int Rank, string Key, long? T), int> _asked = new();

    /// <summary>Entries kept per key.</summary>
    public int QueueSize { get; } = queueSize > 0 ? queueSize : throw DeisaException.Value($"feedback_queue_size must be positive (got {queueSize})");

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
        while (q.Count > QueueSize)
        {
            var old = q.First!.Value.T;
            q.RemoveFirst();
            Forget(key, old);
        }
    }

    /// <summary>The answer for <paramref name="rank"/>'s next query of (key, timestep).</summary>
    public FeedbackAnswer Get(int rank, string key, long? t)
    {
        var id = (rank, key, t);
        int n = _asked.GetValueOrDefault(id);
        _asked[id] = n + 1;
        if (!_answers.TryGetValue((key, t), out var given)) _answers[(key, t)] = given = new();
        if (n < given.Count) return given[n];
        var answer = Lookup(key, t);
        // Past this many polls of one (key, timestep), answers are no longer remembered: memory
        // stays bounded and such a long poll has long seen the value anyway.
        if (given.Count < MaxRememberedAnswers) given.Add(answer);
        return answer;
    }

    private FeedbackAnswer Lookup(string key, long? t)
    {
        if (!_queues.TryGetValue(key, out var q)) return new(null, null);
        if (t is null) return new(null, q.Select(e => (e.T, e.V)).ToList());
        foreach (var e in q) if (e.T == t) return new(e.V, null);
        return new(null, null);
    }

    private void Forget(string key, long t)
    {
        _answers.Remove((key, t));
        foreach (var id in _asked.Keys.Where(k => k.Key == key && k.T == t).ToList()) _asked.Remove(id);
    }
}
