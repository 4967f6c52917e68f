using System.Numerics;
using System.Numerics.Tensors;

namespace Deisa.Analytics;

/// <summary>
/// Reductions over every block of an array with <see cref="TensorPrimitives"/>, reading each
/// block's memory in place (the order of elements does not matter to these reductions). The
/// caller has checked the element type and that the memory is still leased.
/// </summary>
internal static class ArrayReductions
{
    /// <summary>Elements converted to double per batch by <see cref="Mean{T}"/>.</summary>
    private const int Batch = 2048;

    public static T Sum<T>(IReadOnlyList<ArrayBlock> blocks) where T : unmanaged, INumberBase<T>
    {
        T sum = T.Zero;
        foreach (var b in blocks)
            for (int p = 0; p < b.PieceCount; p++) sum += TensorPrimitives.Sum(b.Piece<T>(p));
        return sum;
    }

    public static T Min<T>(IReadOnlyList<ArrayBlock> blocks) where T : unmanaged, INumber<T> =>
        Fold<T>(blocks, static piece => TensorPrimitives.Min(piece), static (a, b) => TensorPrimitives.Min([a, b]));

    public static T Max<T>(IReadOnlyList<ArrayBlock> blocks) where T : unmanaged, INumber<T> =>
        Fold<T>(blocks, static piece => TensorPrimitives.Max(piece), static (a, b) => TensorPrimitives.Max([a, b]));

    /// <summary>The mean as a double; non-double elements are converted in batches first, so an integer sum cannot overflow.</summary>
    public static double Mean<T>(IReadOnlyList<ArrayBlock> blocks, long length) where T : unmanaged, INumber<T>
    {
        double sum = 0;
        Span<double> converted = stackalloc double[Batch];
        foreach (var b in blocks)
            for (int p = 0; p < b.PieceCount; p++)
            {
                var piece = b.Piece<T>(p);
                if (typeof(T) == typeof(double))
                {
                    sum += TensorPrimitives.Sum(System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(piece));
                    continue;
                }
                for (int i = 0; i < piece.Length; i += Batch)
                {
                    var part = piece.Slice(i, Math.Min(Batch, piece.Length - i));
                    var into = converted[..part.Length];
                    TensorPrimitives.ConvertChecked(part, into);
                    sum += TensorPrimitives.Sum<double>(into);
                }
            }
        return sum / length;
    }

    private delegate T PieceReduction<T>(ReadOnlySpan<T> piece);

    // Min and max propagate NaN as TensorPrimitives does (any NaN makes the result NaN), so the
    // per-piece results are combined with the same functions.
    private static T Fold<T>(IReadOnlyList<ArrayBlock> blocks, PieceReduction<T> reduce, Func<T, T, T> combine) where T : unmanaged
    {
        T? result = null;
        foreach (var b in blocks)
            for (int p = 0; p < b.PieceCount; p++)
            {
                var r = reduce(b.Piece<T>(p));
                result = result is { } acc ? combine(acc, r) : r;
            }
        return result ?? throw new InvalidOperationException("an array has at least one element");
    }
}
