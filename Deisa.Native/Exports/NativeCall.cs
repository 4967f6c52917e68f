using System.Runtime.InteropServices;
using System.Text;
using Deisa.Model;

namespace Deisa.Native.Exports;

/// <summary>
/// The guard every export runs inside: no exception crosses the C boundary (it would kill the
/// host); each becomes a status code and the thread's last-error message.
/// </summary>
internal static unsafe class NativeCall
{
    [ThreadStatic] private static byte* t_lastError;

    public static int Run(Func<DeisaStatus> body)
    {
        try
        {
            var status = body();
            // A call that did not fail (DEISA_OK, or DEISA_PENDING: nothing yet) leaves no message.
            SetError(status is DeisaStatus.Ok or DeisaStatus.Pending ? null : $"failed with status {(int)status}");
            return (int)status;
        }
        catch (DeisaException e) { SetError(e.Message); return (int)e.Status; }
        catch (Exception e) { SetError($"internal error: {e.GetType().Name}: {e.Message}"); return (int)DeisaStatus.Internal; }
    }

    public static int Run(Action body) => Run(() => { body(); return DeisaStatus.Ok; });

    public static byte* LastError => t_lastError;

    public static void SetError(string? message)
    {
        if (t_lastError != null) { NativeMemory.Free(t_lastError); t_lastError = null; }
        if (message is null) return;
        t_lastError = AllocUtf8(message);
    }

    /// <summary>A NUL-terminated UTF-8 copy the caller frees with <c>deisa_string_free</c>.</summary>
    public static byte* AllocUtf8(string s)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        var p = (byte*)NativeMemory.Alloc((nuint)n + 1);
        Encoding.UTF8.GetBytes(s, new Span<byte>(p, n));
        p[n] = 0;
        return p;
    }

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>A string argument; a NULL is an error naming the parameter.</summary>
    public static string Utf8(byte* p, string what) =>
        p == null ? throw new DeisaException(DeisaStatus.InvalidHandle, $"{what} is NULL") : Decode(p, what);

    /// <summary>An optional string argument (NULL or empty = absent).</summary>
    public static string? OptionalUtf8(byte* p, string what) =>
        p == null ? null : Decode(p, what) is { Length: > 0 } s ? s : null;

    // Strict: bytes that are not UTF-8 are an error, not U+FFFD replacements (two different
    // names must never become the same string).
    private static string Decode(byte* p, string what)
    {
        var bytes = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(p);
        try { return s_strictUtf8.GetString(bytes); }
        catch (DecoderFallbackException)
        {
            var shown = Convert.ToHexString(bytes[..Math.Min(bytes.Length, 32)]).ToLowerInvariant();
            throw new DeisaException(DeisaStatus.Value, $"{what} is not valid UTF-8 (bytes {shown}{(bytes.Length > 32 ? "..." : "")})");
        }
    }

    /// <summary>An out-parameter that must not be NULL.</summary>
    public static T* Out<T>(T* p, string what) where T : unmanaged =>
        p == null ? throw new DeisaException(DeisaStatus.InvalidHandle, $"{what} is NULL") : p;

    /// <summary>A string out-parameter that must not be NULL.</summary>
    public static byte** Out(byte** p, string what) =>
        p == null ? throw new DeisaException(DeisaStatus.InvalidHandle, $"{what} is NULL") : p;

    /// <summary>A pointer out-parameter that must not be NULL.</summary>
    public static void** Out(void** p, string what) =>
        p == null ? throw new DeisaException(DeisaStatus.InvalidHandle, $"{what} is NULL") : p;

    /// <summary>An array of int64 of length n (a number of dimensions), copied.</summary>
    public static long[] Int64s(long* p, int n, string what)
    {
        Shape.CheckDimensions(n, what);
        if (p == null) throw new DeisaException(DeisaStatus.InvalidHandle, $"{what} is NULL");
        return new ReadOnlySpan<long>(p, n).ToArray();
    }

    public static TimeSpan Seconds(double s, string what) =>
        double.IsNaN(s) || s < 0 ? throw new DeisaException(DeisaStatus.Value, $"{what} must be a positive number of seconds (got {s})")
        : s == 0 || double.IsInfinity(s) || s > 2e6 ? TimeSpan.FromDays(24) : TimeSpan.FromSeconds(s);

    /// <summary>Blocks the calling native thread on an async operation (no await in exports).</summary>
    public static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();

    public static void Wait(Task task) => task.GetAwaiter().GetResult();
}
