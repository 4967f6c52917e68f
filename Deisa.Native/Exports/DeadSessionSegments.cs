using Deisa.SharedMemory;

namespace Deisa.Native.Exports;

/// <summary>
/// Finds shared memory of runs whose analytics died, wherever their rendezvous was: a
/// segment is kept while a live analytics' socket names its session.
/// </summary>
internal static class DeadSessionSegments
{
    private static readonly TimeSpan MinAge = TimeSpan.FromSeconds(10);

    public static IReadOnlyList<string> Remove()
    {
        var removed = new List<string>();
        if (!Directory.Exists(Segment.Directory)) return removed;
        var live = LiveSessions();
        foreach (var f in Directory.EnumerateFiles(Segment.Directory, "deisa-*"))
        {
            var name = Path.GetFileName(f);
            var parts = name.Split('-');
            if (parts.Length < 3 || live.Contains(parts[1])) continue;
            // A segment is mapped by its analytics right after it is created: a young one may
            // belong to a run starting now, not to a dead one.
            if (DateTime.UtcNow - File.GetLastWriteTimeUtc(f) < MinAge) continue;
            try { File.Delete(f); removed.Add(f); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        return removed;
    }

    // A live analytics holds its segments open in its own address space: look them up in
    // /proc/*/maps of this user's processes.
    private static HashSet<string> LiveSessions()
    {
        var live = new HashSet<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                foreach (var line in File.ReadLines(Path.Combine(dir, "maps")))
                {
                    int i = line.IndexOf("/dev/shm/deisa-", StringComparison.Ordinal);
                    if (i < 0) continue;
                    var parts = line[(i + "/dev/shm/".Length)..].Split('-');
                    if (parts.Length >= 2) live.Add(parts[1]);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return live;
    }
}
