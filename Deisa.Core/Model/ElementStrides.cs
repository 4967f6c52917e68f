
namespace Deisa.Model;

/// <summary>
/// Lengths and strides, in elements, of dense blocks laid out in C or Fortran order, as
/// <see cref="System.Numerics.Tensors.ReadOnlyTensorSpan{T}"/> takes them; and the check that a
/// tensor already has that layout. Shared by the bridge (sending tensors) and the analytics
/// (block views).
/// </summary>
internal static class ElementStrides
{
    /// <summary>The shape as tensor lengths.</summary>
    public static nint[] Lengths(IReadOnlyList<long> shape)
    {
        var lengths = new nint[shape.Count];
        for (int d = 0; d < lengths.Length; d++) lengths[d] = checked((nint)shape[d]);
        return lengths;
    }

    /// <summary>
    /// Strides of a dense block of <paramref name="shape"/>: in C order the last index varies
    /// fastest, in Fortran order the first, so element [i, j] of the view is the element the
    /// simulation calls (i, j) (0-based) in its own language. A dimension of length 1 gets
    /// stride 0, as <see cref="System.Numerics.Tensors.TensorSpan{T}"/> requires.
    /// </summary>
    public static nint[] Of(IReadOnlyList<long> shape, MemoryOrder order)
    {
        int n = shape.Count;
        var strides = new nint[n];
        nint step = 1;
        for (int k = 0; k < n; k++)
        {
            int d = order == MemoryOrder.Fortran ? k : n - 1 - k;
            strides[d] = shape[d] == 1 ? 0 : step;
            step = checked(step * (nint)shape[d]);
        }
        return strides;
    }

    /// <summary>
    /// True if a tensor of these lengths and strides covers one contiguous run of memory laid
    /// out in <paramref name="order"/> (dimensions of length 1 may have any stride).
    /// </summary>
    public static bool IsContiguous(ReadOnlySpan<nint> lengths, ReadOnlySpan<nint> strides, MemoryOrder order)
    {
        int n = lengths.Length;
        nint step = 1;
        for (int k = 0; k < n; k++)
        {
            int d = order == MemoryOrder.Fortran ? k : n - 1 - k;
            if (lengths[d] != 1 && strides[d] != step) return false;
            step *= lengths[d];
        }
        return true;
    }

    /// <summary>True if <paramref name="lengths"/> equal <paramref name="shape"/>.</summary>
    public static bool SameShape(ReadOnlySpan<nint> lengths, IReadOnlyList<long> shape)
    {
        if (lengths.Length != shape.Count) return false;
        for (int d = 0; d < lengths.Length; d++) if (lengths[d] != shape[d]) return false;
        return true;
    }

    /// <summary>"(2, 3)", as <see cref="Shape.Format"/> prints shapes.</summary>
    public static string Format(ReadOnlySpan<nint> lengths)
    {
        var s = new long[lengths.Length];
        for (int d = 0; d < s.Length; d++) s[d] = lengths[d];
        return Shape.Format(s);
    }
}
