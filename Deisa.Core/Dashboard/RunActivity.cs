using System.Diagnostics;

namespace Deisa.Dashboard;

/// <summary>
/// What a run did that its status does not hold: the timesteps processed and when, each
/// callback's runs and times, the feedback values set, the errors met, and the pictures and
/// reductions of its arrays the analytics made for the dashboard. Bounded: the newest
/// <see cref="MaxRows"/> rows of each kind are kept. Thread-safe; every call is a few
/// field writes under one lock, so recording costs the run nothing it would notice.
/// </summary>
public sealed class RunActivity
{
    /// <summary>How many timesteps, errors and points of each array's reductions are kept.</summary>
    public const int MaxRows = 2000;

    /// <summary>How many arrays may have a picture and reductions (the first ones reported).</summary>
    public const int MaxArrays = 16;

    private readonly object _lock = new();
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly Queue<TimestepRecord> _timesteps = new();
    private readonly Dictionary<string, CallbackTotals> _callbacks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FeedbackRecord> _feedback = new(StringComparer.Ordinal);
    private readonly Queue<ErrorRecord> _errors = new();
    private readonly Dictionary<string, ArrayPicture> _pictures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue<ReductionPoint>> _reductions = new(StringComparer.Ordinal);
    private long _processed;
    private double _callbackSecondsOfTimestep;

    /// <summary>When the run started (wall clock).</summary>
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>Seconds since the run started.</summary>
    public double Now => Stopwatch.GetElapsedTime(_started).TotalSeconds;

    /// <summary>The callbacks of <paramref name="timestep"/> ran: it is processed.</summary>
    public void TimestepProcessed(long timestep)
    {
        lock (_lock)
        {
            _processed++;
            Add(_timesteps, new TimestepRecord(timestep, Now, _callbackSecondsOfTimestep));
            _callbackSecondsOfTimestep = 0;
        }
    }

    /// <summary>A callback ran at <paramref name="timestep"/> for <paramref name="seconds"/>; <paramref name="error"/> if it failed.</summary>
    public void CallbackRan(string callback, long timestep, double seconds, string? error)
    {
        lock (_lock)
        {
            if (!_callbacks.TryGetValue(callback, out var totals))
            {
                if (_callbacks.Count >= MaxRows) return;
                _callbacks[callback] = totals = new CallbackTotals(callback);
            }
            totals.Add(timestep, seconds, error is not null);
            _callbackSecondsOfTimestep += seconds;
            if (error is not null) Add(_errors, new ErrorRecord(Now, $"callback {callback}", timestep, error));
        }
    }

    /// <summary>A feedback value was set for the simulation (the newest per key is kept).</summary>
    public void FeedbackSet(string key, long timestep, string value)
    {
        lock (_lock)
        {
            if (_feedback.Count >= MaxRows && !_feedback.ContainsKey(key)) return;
            _feedback[key] = new FeedbackRecord(key, timestep, value, Now);
        }
    }

    /// <summary>Something went wrong in the run (<paramref name="source"/> says where).</summary>
    public void Error(string source, long? timestep, string message)
    {
        lock (_lock) Add(_errors, new ErrorRecord(Now, source, timestep, message));
    }

    /// <summary>The newest picture of an array (a 2-D slice of it); false when
    /// <see cref="MaxArrays"/> other arrays have pictures already.</summary>
    public bool Picture(ArrayPicture picture)
    {
        lock (_lock)
        {
            if (_pictures.Count >= MaxArrays && !_pictures.ContainsKey(picture.Array)) return false;
            _pictures[picture.Array] = picture;
            return true;
        }
    }

    /// <summary>An array's reductions at a timestep (mean, min, max), for its line over time;
    /// false when <see cref="MaxArrays"/> other arrays have reductions already.</summary>
    public bool Reduction(string array, ReductionPoint point)
    {
        lock (_lock)
        {
            if (!_reductions.TryGetValue(array, out var points))
            {
                if (_reductions.Count >= MaxArrays) return false;
                _reductions[array] = points = new Queue<ReductionPoint>();
            }
            Add(points, point);
            return true;
        }
    }

    /// <summary>A copy of everything recorded.</summary>
    public ActivitySnapshot Snapshot()
    {
        lock (_lock)
        {
            return new ActivitySnapshot(
                StartedAt, Now, _processed,
                [.. _timesteps],
                [.. _callbacks.Values.Select(c => c.Snapshot())],
                [.. _feedback.Values.OrderBy(f => f.Key, StringComparer.Ordinal)],
                [.. _errors],
                _pictures.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
                _reductions.ToDictionary(r => r.Key, r => (IReadOnlyList<ReductionPoint>)[.. r.Value], StringComparer.Ordinal));
        }
    }

    private static void Add<T>(Queue<T> rows, T row)
    {
        if (rows.Count == MaxRows) rows.Dequeue();
        rows.Enqueue(row);
    }

    private sealed class CallbackTotals(string name)
    {
        private long _runs, _failures, _lastTimestep = -1;
        private double _seconds, _last;

        public void Add(long timestep, double seconds, bool failed)
        {
            _runs++;
            if (failed) _failures++;
            _seconds += seconds;
            _last = seconds;
            _lastTimestep = timestep;
        }

        public CallbackRecord Snapshot() => new(name, _runs, _failures, _seconds, _last, _lastTimestep);
    }
}
