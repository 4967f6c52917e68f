namespace Deisa.Dashboard;

// The rows RunActivity keeps; times are seconds since the run started.

/// <summary>A timestep processed <paramref name="At"/> seconds into the run, its callbacks having taken <paramref name="CallbackSeconds"/>.</summary>
public sealed record TimestepRecord(long Timestep, double At, double CallbackSeconds);

/// <summary>A callback's runs so far: how many, how many failed, their seconds in all and the last one's.</summary>
public sealed record CallbackRecord(string Name, long Runs, long Failures, double Seconds, double LastSeconds, long LastTimestep);

/// <summary>The newest feedback value set under a key, as text.</summary>
public sealed record FeedbackRecord(string Key, long Timestep, string Value, double At);

/// <summary>An error met <paramref name="At"/> seconds into the run; <paramref name="Source"/> says where.</summary>
public sealed record ErrorRecord(double At, string Source, long? Timestep, string Message);

/// <summary>An array's reductions at one timestep.</summary>
public readonly record struct ReductionPoint(long Timestep, double Mean, double Min, double Max);

/// <summary>A 2-D picture of an array at a timestep: <paramref name="Values"/> holds
/// <paramref name="Rows"/> × <paramref name="Columns"/> values, row by row; <paramref name="Slice"/> says
/// which slice of the array it is (e.g. "[32, :, :] every 2nd").</summary>
public sealed record ArrayPicture(string Array, long Timestep, int Rows, int Columns, double[] Values, string Slice);

/// <summary>A copy of a <see cref="RunActivity"/>.</summary>
public sealed record ActivitySnapshot(
    DateTimeOffset StartedAt,
    double Now,
    long TimestepsProcessed,
    IReadOnlyList<TimestepRecord> Timesteps,
    IReadOnlyList<CallbackRecord> Callbacks,
    IReadOnlyList<FeedbackRecord> Feedback,
    IReadOnlyList<ErrorRecord> Errors,
    IReadOnlyDictionary<string, ArrayPicture> Pictures,
    IReadOnlyDictionary<string, IReadOnlyList<ReductionPoint>> Reductions);
