using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Deisa.Model;
using Deisa.Platform;


namespace Deisa.Protocol;

/// <summary>
/// The rendezvous directory where the analytics and the bridges meet (docs/specification.md §3):
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

    /// <summary>How the names of a run's sockets in the directory start: <c>analytics-{session}</c>.</summary>
    private const string SocketPrefix = "analytics-";

    /// <summary>The pattern of every run's sockets in the directory (<see cref="SocketPath"/>, <see cref="BlockChannelPath"/>).</summary>
    public const string SocketPattern = SocketPrefix + "*.sock";

    /// <summary>The session of a socket file matching <see cref="SocketPattern"/>.</summary>
    public static string SessionOfSocket(string fileName) => fileName[SocketPrefix.Length..].Split('.')[0];

    /// <summary>How the names of the runs' feedback journals start, and their pattern.</summary>
    private const string JournalPrefix = "feedback-";

    /// <summary>The pattern of every run's feedback journal in the directory (<see cref="JournalPath"/>).</summary>
    public const string JournalPattern = JournalPrefix + "*.journal";

    /// <summary>The session of a journal file matching <see cref="JournalPattern"/>.</summary>
    public static string SessionOfJournal(string fileName) => fileName[JournalPrefix.Length..].Split('.')[0];

    /// <summary>Where a session's feedback journal goes.</summary>
    public string JournalPath(string session) => Path.Combine(Directory, $"{JournalPrefix}{session}.journal");

    /// <summary>Where the analytics' Unix socket goes (short enough for sun_path).</summary>
    public string SocketPath(string session)
    {
        var p = Path.Combine(Directory, $"{SocketPrefix}{session}.sock");
        return Encoding.UTF8.GetByteCount(p) < 100 ? p : Path.Combine(Path.GetTempPath(), $"deisa-{session}.sock");
    }

    /// <summary>Where a session's block channel listens (a Unix socket, whatever the control address).</summary>
    public string BlockChannelPath(string session)
    {
        var p = Path.Combine(Directory, $"{SocketPrefix}{session}.blocks.sock");
        return Encoding.UTF8.GetByteCount(p) < 100 ? p : Path.Combine(Path.GetTempPath(), $"deisa-{session}.blocks.sock");
    }

    /// <summary>The name of a session's block channel on each node of a cluster: an abstract Unix
    /// socket (scoped to the node's network namespace, no file), bound by the node's one node
    /// service; "@" stands for the leading zero byte.</summary>
    public static string NodeChannelName(string session) => $"@deisa-{session}.blocks";

    /// <summary>The socket address of a block channel's path or abstract name ("@...").</summary>
    public static System.Net.Sockets.UnixDomainSocketEndPoint EndPointOf(string path) =>
        new(path.StartsWith('@') ? "\0" + path[1..] : path);

    /// <summary>The error of an analytics that finds the directory taken by another
    /// (<paramref name="other"/> says which, e.g. "pid 123").</summary>
    public DeisaException Taken(string other) => DeisaException.State(
        $"another analytics ({other}) is running with rendezvous directory {Directory}; set DEISA_RENDEZVOUS to use another one");

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
            JsonSerializer.Serialize(fs, info, ProtocolJson.Default.RendezvousInfo);
        File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(tmp, FilePath, overwrite: true);
    }

    /// <summary>
    /// Refuses a rendezvous directory another user could tamper with (as ssh refuses a
    /// world-writable <c>~/.ssh</c>): one owned by another user than this process's (root
    /// excepted), or writable by its group or by others; and a record owned by another user.
    /// Nothing of such a directory is followed.
    /// </summary>
    /// <exception cref="DeisaException">The directory or its record is untrusted (<see cref="DeisaStatus.State"/>).</exception>
    public void CheckTrusted()
    {
        uint me = Libc.GetEUid();
        if (Libc.OwnerAndMode(Directory) is { } dir)
        {
            if (dir.Uid != me && dir.Uid != 0)
                throw DeisaException.State($"rendezvous directory {Directory} belongs to another user (uid {dir.Uid}); use a directory of your own (DEISA_RENDEZVOUS)");
            if ((dir.Mode & 0x12 /* go+w */) != 0)
                throw DeisaException.State($"rendezvous directory {Directory} is writable by other users (mode {Convert.ToString(dir.Mode & 0x1ff, 8)}); make it private (chmod go-w) or use another one (DEISA_RENDEZVOUS)");
        }
        if (Libc.OwnerAndMode(FilePath) is { } record && record.Uid != me)
            throw DeisaException.State($"rendezvous record {FilePath} belongs to another user (uid {record.Uid}): it is not followed; remove it or use another directory (DEISA_RENDEZVOUS)");
    }

    /// <summary>The record, or null if there is none or it is unreadable.</summary>
    /// <remarks>Every rank reads it, with the DOM reader rather than the serializer that writes
    /// it: loading the serializer for this one read made each rank's resident memory grow by
    /// more than half a megabyte (docs/design.md §6). The names are the record's, as the
    /// serializer writes them.</remarks>
    /// <exception cref="DeisaException">The directory or its record is untrusted (<see cref="CheckTrusted"/>).</exception>
    public RendezvousInfo? TryRead()
    {
        CheckTrusted();
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(FilePath));
            var r = doc.RootElement;
            return new RendezvousInfo(r.GetProperty(Name(nameof(RendezvousInfo.Session))).GetString()!,
                r.GetProperty(Name(nameof(RendezvousInfo.Token))).GetString()!,
                r.GetProperty(Name(nameof(RendezvousInfo.Address))).GetString()!,
                r.GetProperty(Name(nameof(RendezvousInfo.Pid))).GetInt32())
            {
                Host = r.TryGetProperty(Name(nameof(RendezvousInfo.Host)), out var host) ? host.GetString() ?? "" : "",
                Cluster = r.TryGetProperty(Name(nameof(RendezvousInfo.Cluster)), out var cluster) && cluster.GetBoolean(),
                PidStart = r.TryGetProperty(Name(nameof(RendezvousInfo.PidStart)), out var start) && start.TryGetInt64(out long s) ? s : 0,
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }

        static string Name(string property) => JsonNamingPolicy.SnakeCaseLower.ConvertName(property);
    }

    /// <summary>The record of a live analytics, or null.</summary>
    public RendezvousInfo? TryReadLive() => TryRead() is { } info && IsLive(info) ? info : null;

    /// <summary>
    /// Whether the analytics of a record still runs. A record with this process's pid is live
    /// if this process published it and has not withdrawn it; otherwise it was left by an
    /// earlier process that had the same pid. Another pid is live if a process has it and, when
    /// the record gives its start time, started then (a dead analytics' pid may belong to an
    /// unrelated process by now). A record written on another node (a cluster's analytics)
    /// counts as live: only connecting to it tells.
    /// </summary>
    public static bool IsLive(RendezvousInfo info) =>
        info.Host.Length > 0 && info.Host != Environment.MachineName ? true
        : info.Pid == Environment.ProcessId ? s_liveHere.ContainsKey(info.Session)
        : info.PidStart != 0 ? Libc.ProcessStartTime(info.Pid) == info.PidStart : Libc.ProcessExists(info.Pid);

    /// <summary>Removes this run's record if it is still ours.</summary>
    public void Withdraw(RendezvousInfo info)
    {
        s_liveHere.TryRemove(info.Session, out _);
        if (TryRead()?.Session == info.Session) TryDelete(FilePath);
    }

    /// <summary>Removes a file if it is there; whether it was.</summary>
    public static bool TryDelete(string path)
    {
        try { if (!File.Exists(path)) return false; File.Delete(path); return true; }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }
}
