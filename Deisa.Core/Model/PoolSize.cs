using System.Globalization;
using Deisa.SharedMemory;

namespace Deisa.Model;

/// <summary>Parses pool sizes ("80MiB", "2GB", "1048576") and picks the default.</summary>
public static class PoolSize
{
    /// <summary>Bytes for a size text, naming it in the error.</summary>
    public static long Parse(string text)
    {
        var s = text.Trim();
        int i = 0;
        while (i < s.Length && (char.IsDigit(s[i]) || s[i] == '.')) i++;
        if (i == 0 || !double.TryParse(s[..i], NumberStyles.Float, CultureInfo.InvariantCulture, out double n))
            throw DeisaException.Value($"pool size '{text}' is not a number of bytes such as 1073741824 or \"80MiB\"");
        double unit = s[i..].Trim().ToLowerInvariant() switch
        {
            "" or "b" => 1,
            "k" or "kb" => 1e3, "kib" => 1 << 10,
            "m" or "mb" => 1e6, "mib" => 1 << 20,
            "g" or "gb" => 1e9, "gib" => 1 << 30,
            "t" or "tb" => 1e12, "tib" => 1L << 40,
            var u => throw DeisaException.Value($"pool size '{text}': unknown unit '{u}' (use B, KiB, MiB, GiB, KB, MB, GB)"),
        };
        var bytes = (long)(n * unit);
        if (bytes <= 0) throw DeisaException.Value($"pool size '{text}' must be positive");
        return bytes;
    }

    /// <summary>
    /// The pool size to use: the explicit one, else <c>$DEISA_POOL_SIZE</c>, else half of
    /// <c>/dev/shm</c>'s capacity capped at 4 GiB.
    /// </summary>
    public static long Resolve(long? explicitBytes)
    {
        if (explicitBytes is { } b) return b > 0 ? b : throw DeisaException.Value($"pool_size must be positive (got {b})");
        var env = Environment.GetEnvironmentVariable("DEISA_POOL_SIZE");
        if (!string.IsNullOrWhiteSpace(env)) return Parse(env);
        long cap = 4L << 30;
        try
        {
            var shm = new DriveInfo(Segment.Directory);
            cap = Math.Min(cap, shm.TotalSize / 2);
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { }
        return Math.Max(cap, 64L << 20);
    }
}
