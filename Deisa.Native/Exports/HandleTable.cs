using System.Collections.Concurrent;
using Deisa.Hosting;
using Deisa.Model;
using Deisa.Simulation;

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

    public static T Get<T>(nint h, string what) where T : class
    {
        if (h == 0) throw Invalid($"{what} is NULL");
        if (!s_objects.TryGetValue(h, out var o)) throw Invalid($"{what} is not a valid handle (already freed, or never returned by this library)");
        return o as T ?? throw Invalid($"{what} is not a valid handle: a {KindOf(o)} was passed where a {KindOf(typeof(T))} is expected");
    }

    /// <summary>Takes the handle out of the table: of two threads freeing it, exactly one gets the object.</summary>
    public static T Remove<T>(nint h, string what) where T : class
    {
        var t = Get<T>(h, what);
        if (!s_objects.TryRemove(new KeyValuePair<nint, object>(h, t)))
            throw Invalid($"{what} is not a valid handle (already freed)");
        return t;
    }

    private static DeisaException Invalid(string message) => new(DeisaStatus.InvalidHandle, message);

    private static string KindOf(object o) => KindOf(o.GetType());

    private static string KindOf(Type t) =>
        t == typeof(Bridge) ? "deisa_bridge*"
        : t == typeof(BlockBuffer) ? "deisa_block*"
        : t == typeof(FeedbackAnswer) ? "deisa_feedback*"
        : t == typeof(AnalyticsRun) ? "deisa_analytics*"
        : t == typeof(Deisa.Dashboard.DashboardServer) ? "deisa_dashboard*"
        : t == typeof(Deisa.Flight.LiveBlocksEndpoint) ? "deisa_flight*"
        : t.Name;
}
