namespace Deisa.Model;

/// <summary>Helpers for N-d shapes and positions written as <c>long[]</c>.</summary>
public static class Shape
{
    /// <summary>"(1, 2, 3)", as numpy prints shapes.</summary>
    public static string Format(IReadOnlyList<long> s) =>
        s.Count == 1 ? $"({s[0]},)" : "(" + string.Join(", ", s) + ")";

    /// <summary>Number of elements.</summary>
    public static long Count(IReadOnlyList<long> s)
    {
        long n = 1;
        foreach (var x in s) n = checked(n * x);
        return n;
    }

    /// <summary>Element-wise equality.</summary>
    public static bool Equal(IReadOnlyList<long> a, IReadOnlyList<long> b)
    {
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++) if (a[i] != b[i]) return false;
        return true;
    }

    /// <summary>Checks a number of dimensions: 1 to <see cref="AbiConstants.MaxDimensions"/>.</summary>
    /// <param name="ndim">The number of dimensions.</param>
    /// <param name="what">What has them, as the message names it (e.g. "array 'a': global_shape").</param>
    public static void CheckDimensions(int ndim, string what)
    {
        if (ndim < 1 || ndim > AbiConstants.MaxDimensions)
            throw DeisaException.Value($"{what} must have 1 to {AbiConstants.MaxDimensions} dimensions (got {ndim})");
    }

    /// <summary>A key usable in dictionaries for a block position.</summary>
    public static string Key(IReadOnlyList<long> position) => string.Join(",", position);

    /// <summary>Per dimension, the global index where each line of the grid of blocks starts
    /// (the sums of the chunk sizes before it): a block at position p starts at starts[d][p[d]].</summary>
    public static long[][] Starts(IReadOnlyList<long[]> chunks) => chunks.Select(sizes =>
    {
        var starts = new long[sizes.Length];
        for (int i = 1; i < sizes.Length; i++) starts[i] = starts[i - 1] + sizes[i - 1];
        return starts;
    }).ToArray();
}
