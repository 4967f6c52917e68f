using System.Globalization;

namespace Deisa.Model;

/// <summary>
/// Sizes written as text ("80MiB", "2 GB", "1e9"), read as Dask's <c>parse_bytes</c> reads
/// them, so that a pool size means the same to Deisa as to the Dask cluster it runs next to:
/// spaces are dropped; the trailing letters are the unit (B, kB, MB, GB, TB, PB: powers of
/// 1000; KiB, MiB, GiB, TiB, PiB: powers of 1024; also k, M, G, T, P and Ki, Mi, Gi, Ti, Pi;
/// any case), what comes before them a number as Python writes one (sign, underscores between
/// digits, decimal point, exponent); a unit alone means one of it; the product is truncated
/// to an integer. The one parser of sizes for every door (C#, C, Python, <c>$DEISA_POOL_SIZE</c>).
/// </summary>
public static class ByteSize
{
    private static readonly Dictionary<string, double> Units = new(StringComparer.Ordinal)
    {
        [""] = 1, ["b"] = 1,
        ["k"] = 1e3, ["kb"] = 1e3, ["m"] = 1e6, ["mb"] = 1e6, ["g"] = 1e9, ["gb"] = 1e9,
        ["t"] = 1e12, ["tb"] = 1e12, ["p"] = 1e15, ["pb"] = 1e15,
        ["ki"] = 1L << 10, ["kib"] = 1L << 10, ["mi"] = 1L << 20, ["mib"] = 1L << 20, ["gi"] = 1L << 30, ["gib"] = 1L << 30,
        ["ti"] = 1L << 40, ["tib"] = 1L << 40, ["pi"] = 1L << 50, ["pib"] = 1L << 50,
    };

    /// <summary>
    /// Whether <paramref name="s"/> is a number as Python's float() reads one (ASCII digits):
    /// whitespace, a sign, digits with single underscores between them, a decimal point with
    /// digits on at least one side, an exponent, whitespace.
    /// </summary>
    private static bool IsPythonFloat(ReadOnlySpan<char> s)
    {
        s = s.Trim();
        int at = 0;
        if (at < s.Length && s[at] is '+' or '-') at++;
        int whole = Digits(s, ref at), fraction = 0;
        if (at < s.Length && s[at] == '.')
        {
            at++;
            fraction = Digits(s, ref at);
        }
        if (whole < 0 || fraction < 0 || whole + fraction == 0) return false;
        if (at < s.Length && s[at] is 'e' or 'E')
        {
            at++;
            if (at < s.Length && s[at] is '+' or '-') at++;
            if (Digits(s, ref at) <= 0) return false;
        }
        return at == s.Length;
    }

    /// <summary>Reads digits with single underscores between them: how many digits, or -1 if
    /// an underscore is not between two digits.</summary>
    private static int Digits(ReadOnlySpan<char> s, ref int at)
    {
        int n = 0;
        while (at < s.Length)
        {
            if (char.IsAsciiDigit(s[at])) { n++; at++; }
            else if (s[at] == '_' && n > 0 && at + 1 < s.Length && char.IsAsciiDigit(s[at + 1])) at++;
            else break;
        }
        return n;
    }

    /// <summary>The bytes of <paramref name="text"/>, which must be a positive size.</summary>
    /// <param name="text">The size.</param>
    /// <param name="what">What the size is for, as the error names it (e.g. "pool_size"); null: a size.</param>
    /// <exception cref="DeisaException">Not a size, or not positive (<see cref="DeisaStatus.Value"/>), naming the text.</exception>
    public static long Parse(string text, string? what)
    {
        var s = text.Replace(" ", "", StringComparison.Ordinal);
        if (!s.Any(char.IsAsciiDigit)) s = "1" + s;
        int end = s.Length;
        while (end > 0 && char.IsLetter(s[end - 1])) end--;
        string number = s[..end], unit = s[end..];
        if (!IsPythonFloat(number) || !double.TryParse(number.Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out double n))
            throw Invalid(text, what, $"could not interpret '{number}' as a number");
        if (!Units.TryGetValue(unit.ToLowerInvariant(), out double multiplier))
            throw Invalid(text, what, $"could not interpret '{unit}' as a byte unit (B, kB, MB, GB, TB, PB or KiB, MiB, GiB, TiB, PiB)");
        double bytes = Math.Truncate(n * multiplier);
        if (bytes >= 9.2233720368547758e18) throw Invalid(text, what, "it is too large");
        if (bytes <= 0) throw DeisaException.Value($"{what ?? "a size"} must be positive (got '{text}')");
        return (long)bytes;
    }

    private static DeisaException Invalid(string text, string? what, string why) =>
        DeisaException.Value($"{(what is null ? "" : what + " ")}'{text}' is not a size such as 1073741824, \"80MiB\" or \"2 GB\": {why}");

    /// <summary>Checks a size given in bytes: it must be positive.</summary>
    public static long CheckPositive(long bytes, string what) =>
        bytes > 0 ? bytes : throw DeisaException.Value($"{what} must be positive (got {bytes} bytes)");
}
