using Deisa.Model;
using Deisa.Protocol;
using Deisa.SharedMemory;

namespace Deisa.Hosting;

/// <summary>
/// What a dead run leaves behind and how it goes: its rendezvous record, its sockets (control
/// and block channel) and its shared-memory segments. A new analytics in the same directory
/// removes them (<see cref="ClaimForNewRun"/>), and so does <c>deisa cleanup</c>, which also
/// removes the feedback journals dead runs left (a new analytics reads the newest instead:
/// <see cref="FeedbackJournal"/>).
/// </summary>
public static class Leftovers
{
    /// <summary>A segment younger than this may belong to a run starting now, not to a dead one.</summary>
    private static readonly TimeSpan MinAge = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Before a new analytics starts in <paramref name="rendezvous"/>: refuses if a live one
    /// already uses it, and removes what a dead one left.
    /// </summary>
    public static void ClaimForNewRun(Rendezvous rendezvous)
    {
        if (rendezvous.TryRead() is { } old)
        {
            if (Rendezvous.IsLive(old))
                throw rendezvous.Taken($"pid {old.Pid}{(old.Pid == Environment.ProcessId ? ", this process" : "")}");
            Remove(rendezvous, old);
        }
        RemoveOrphanSockets(rendezvous, keep: null);
    }

    /// <summary>Removes what the dead run of <paramref name="rendezvous"/>'s record and dead runs'
    /// shared memory anywhere left (<c>deisa cleanup</c>); returns the paths removed. With
    /// <paramref name="remove"/> false, only lists what it would remove (<c>deisa status</c>).</summary>
    public static IReadOnlyList<string> RemoveDead(Rendezvous rendezvous, bool remove = true)
    {
        bool Delete(string path) => remove ? Rendezvous.TryDelete(path) : File.Exists(path);
        var removed = new List<string>();
        string? live = null;
        if (rendezvous.TryRead() is { } info)
        {
            if (Rendezvous.IsLive(info)) live = info.Session;
            else removed.AddRange(Remove(rendezvous, info, Delete));
        }
        removed.AddRange(RemoveOrphanSockets(rendezvous, keep: live, Delete));
        // The feedback journals dead runs left for a successor (a new analytics reads them instead).
        if (Directory.Exists(rendezvous.Directory))
            foreach (var f in Directory.EnumerateFiles(rendezvous.Directory, Rendezvous.JournalPattern))
                if (Rendezvous.SessionOfJournal(Path.GetFileName(f)) != live && Delete(f)) removed.Add(f);
        // A killed analytics' lock file (the kernel let the lock go): removed if no one holds it.
        var lockFile = Path.Combine(rendezvous.Directory, RendezvousClaim.FileName);
        if (live is null && File.Exists(lockFile))
            try
            {
                if (remove) RendezvousClaim.Take(rendezvous).Dispose();
                removed.Add(lockFile);
            }
            catch (DeisaException) { } // held: a run is starting
        removed.AddRange(RemoveDeadSessionSegments(Delete));
        return removed;
    }

    /// <summary>Removes a dead run's segments, sockets and record; returns what was removed.</summary>
    private static List<string> Remove(Rendezvous rendezvous, RendezvousInfo info, Func<string, bool>? delete = null)
    {
        delete ??= Rendezvous.TryDelete;
        var removed = RemoveSegments(info.Session, delete);
        var sockets = new List<string> { rendezvous.BlockChannelPath(info.Session) };
        if (info.Address.StartsWith("unix:", StringComparison.Ordinal)) sockets.Add(info.Address["unix:".Length..]);
        foreach (var s in sockets)
            if (delete(s)) removed.Add(s);
        if (rendezvous.TryRead()?.Session == info.Session && delete(rendezvous.FilePath)) removed.Add(rendezvous.FilePath);
        return removed;
    }

    /// <summary>
    /// Removes the sockets of earlier runs left in the directory (<c>analytics-{session}*.sock</c>)
    /// whatever their record says (a record another run replaced no longer names them); the
    /// sockets of session <paramref name="keep"/>, the live run's, stay, and so do sockets
    /// younger than ten seconds.
    /// </summary>
    private static List<string> RemoveOrphanSockets(Rendezvous rendezvous, string? keep, Func<string, bool>? delete = null)
    {
        delete ??= Rendezvous.TryDelete;
        var removed = new List<string>();
        if (!Directory.Exists(rendezvous.Directory)) return removed;
        foreach (var f in Directory.EnumerateFiles(rendezvous.Directory, Rendezvous.SocketPattern))
        {
            var session = Rendezvous.SessionOfSocket(Path.GetFileName(f));
            if (session == keep) continue;
            // A young one may be a run starting now (its record not written yet), not a dead one.
            if (DateTime.UtcNow - File.GetLastWriteTimeUtc(f) < MinAge) continue;
            if (delete(f)) removed.Add(f);
        }
        return removed;
    }

    /// <summary>Removes the shared memory of a session.</summary>
    private static List<string> RemoveSegments(string session, Func<string, bool> delete)
    {
        var removed = new List<string>();
        if (!Directory.Exists(Segment.Directory)) return removed;
        foreach (var f in Directory.EnumerateFiles(Segment.Directory, RendezvousInfo.SegmentPrefixOf(session) + "-*"))
            if (delete(f)) removed.Add(f);
        return removed;
    }

    /// <summary>
    /// Shared memory of runs whose analytics died, wherever their rendezvous was: a segment is
    /// kept while a live process maps a segment of its session.
    /// </summary>
    private static List<string> RemoveDeadSessionSegments(Func<string, bool> delete)
    {
        var removed = new List<string>();
        if (!Directory.Exists(Segment.Directory)) return removed;
        var live = LiveSessions();
        foreach (var f in Directory.EnumerateFiles(Segment.Directory, "deisa-*"))
        {
            var parts = Path.GetFileName(f).Split('-');
            if (parts.Length < 3 || live.Contains(parts[1])) continue;
            // A segment is mapped by its analytics right after it is created: a young one may
            // belong to a run starting now, not to a dead one.
            if (DateTime.UtcNow - File.GetLastWriteTimeUtc(f) < MinAge) continue;
            if (delete(f)) removed.Add(f);
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
