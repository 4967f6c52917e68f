using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Deisa.Model;
using Deisa.Platform;
using Deisa.SharedMemory;

namespace Deisa.Protocol;

/// <summary>
/// The rendezvous directory where the analytics and the bridges meet (SPEC §3):
/// <c>$DEISA_RENDEZVOUS</c>, by default <c>.deisa/</c> in the current directory. The analytics
/// writes <c>analytics.json</c> (mode 0600) with its address and the session token.
/// </summary>
public sealed class Rendezvous
{
    // Sessions published by this process and not yet withdrawn.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> s_liveHere = new();

    /// <summary>File name of the analytics' record.</summary>
    public const string FileName = "analytics.json";

    /// <summary>Opens the rendezvous at <paramref name="directory"/> (or the default).</summary>
    public Rendezvous(string? directory = null)
    {
        directory ??= Environment.GetEnvironmentVariable("DEISA_RENDEZVOUS");
        if (string.IsNullOrEmpty(directory)) directory = ".deisa";
        Directory = Path.GetFullPath(directory);
    }

    /// <summary>Absolute path of the directory.</summary>
    public string Directory { get; }

    /// <summary>Path of the analytics' record.</summary>
    public string FilePath => Path.Combine(Directory, FileName);

    /// <summary>A new random session id.</summary>
    public static string NewSession() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    /// <summary>A new random session token.</summary>
    public static string NewToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    /// <summary>Where the analytics' Unix socket goes (short enough for sun_path).</summary>
    public string SocketPath(string session)
    {
        var p = Path.Combine(Directory, $"analytics-{session}.sock");
        return Encoding.UTF8.GetByteCount(p) < 100 ? p : Path.Combine(Path.GetTempPath(), $"deisa-{session}.sock");
    }

    /// <summary>Writes the record atomically with mode 0600.</summary>
    public void Publish(RendezvousInfo info)
    {
        s_liveHere[info.Session] = 0;
        System.IO.Directory.CreateDirectory(Directory);
        var tmp = FilePath + $".{info.Pid}.tmp";
        using (var fs = new FileStream(tmp, new FileStreamOptions
        {
            Mode = FileMode.Create, Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        using (var w = new Utf8JsonWriter(fs, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("session", info.Session);
            w.WriteString("token", info.Token);
            w.WriteString("address", info.Address);
            w.WriteNumber("pid", info.Pid);
            w.WriteEndObject();
        }
        File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(tmp, FilePath, overwrite: true);
    }

    /// <summary>The record, or null if there is none or it is unreadable.</summary>
    public RendezvousInfo? TryRead()
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(FilePath));
            var r = doc.RootElement;
            return new RendezvousInfo(r.GetProperty("session").GetString()!, r.GetProperty("token").GetString()!,
                r.GetProperty("address").GetString()!, r.GetProperty("pid").GetInt32());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The record of a live analytics, or null.</summary>
    public RendezvousInfo? TryReadLive() => TryRead() is { } info && Libc.ProcessExists(info.Pid) ? info : null;

    /// <summary>
    /// Before a new analytics starts here: refuses if a live one already uses this directory,
    /// and removes what a dead one left (record, socket, shared memory).
    /// </summary>
    public void ClaimForNewRun()
    {
        if (TryRead() is not { } old) return;
        // A record with this process's pid is live if this process published it and has not
        // withdrawn it; otherwise it was left by an earlier process that had the same pid.
        if (old.Pid == Environment.ProcessId ? s_liveHere.ContainsKey(old.Session) : Libc.ProcessExists(old.Pid))
            throw DeisaException.State($"another analytics (pid {old.Pid}{(old.Pid == Environment.ProcessId ? ", this process" : "")}) is running with rendezvous directory {Directory}; set DEISA_RENDEZVOUS to use another one");
        RemoveLeftovers(old);
    }

    /// <summary>Removes a dead run's record, socket and shared memory; returns what was removed.</summary>
    public IReadOnlyList<string> RemoveLeftovers(RendezvousInfo info)
    {
        var removed = new List<string>();
        removed.AddRange(RemoveSegments(info.Session));
        if (info.Address.StartsWith("unix:", StringComparison.Ordinal) && TryDelete(info.Address["unix:".Length..])) removed.Add(info.Address["unix:".Length..]);
        if (TryRead()?.Session == info.Session && TryDelete(FilePath)) removed.Add(FilePath);
        return removed;
    }

    /// <summary>Removes the shared memory of a session.</summary>
    public static IReadOnlyList<string> RemoveSegments(string session)
    {
        var removed = new List<string>();
        if (!System.IO.Directory.Exists(Segment.Directory)) return removed;
        foreach (var f in System.IO.Directory.EnumerateFiles(Segment.Directory, RendezvousInfo.SegmentPrefixOf(session) + "-*"))
            if (TryDelete(f)) removed.Add(f);
        return removed;
    }

    /// <summary>Removes this run's record if it is still ours.</summary>
    public void Withdraw(RendezvousInfo info)
    {
        s_liveHere.TryRemove(info.Session, out _);
        if (TryRead()?.Session == info.Session) TryDelete(FilePath);
    }

    private static bool TryDelete(string path)
    {
        try { if (!File.Exists(path)) return false; File.Delete(path); return true; }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }
}
