using System.Collections.Concurrent;
using Deisa.Errors;

namespace Deisa.Native.Exports;

/// <summary>
/// Opaque handles given to C: small integers looked up in a table, never dereferenced, so a
/// wrong, stale or freed handle is an error code, not a crash.
/// </summary>
internal static class HandleTable
{
    private static readonly ConcurrentDictionary<nint, object> s_objects = new();
    private static long s_next = 0x10;

    public static nint Add(object o)
    {
        var h = (nint)(Interlocked.Add(ref s_next, 0x10));
        s_objects[h] = o;
        return h;
    }

    public static T Get<T>(nint h, string what) where T : class =>
        h != 0 && s_objects.TryGetValue(h, out var o) && o is T t ? t
        : throw new DeisaException(DeisaStatus.InvalidHandle, h == 0 ? $"{what} is NULL" : $"{what} is not a valid handle (freed, or of another kind)");

    public static T Remove<T>(nint h, string what) where T : class
    {
        var t = Get<T>(h, what);
        s_objects.TryRemove(h, out _);
        return t;
    }
}
