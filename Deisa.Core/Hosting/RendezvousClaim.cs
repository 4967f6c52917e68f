using System.Text;
using Deisa.Model;
using Deisa.Platform;
using Deisa.Protocol;

namespace Deisa.Hosting;

/// <summary>
/// An analytics' hold on its rendezvous directory: an exclusive lock on <c>analytics.lock</c>
/// there (flock), taken before anything else and kept for the life of the run. Two analytics
/// started at the same instant cannot both have it: the second fails at once, naming the
/// first; the kernel drops the lock when its holder dies, whatever killed it, and an ending run
/// removes the file.
/// </summary>
public sealed unsafe class RendezvousClaim : IDisposable
{
    /// <summary>File name of the lock.</summary>
    public const string FileName = "analytics.lock";

    private int _fd;
    private readonly string _path;

    private RendezvousClaim(int fd, string path)
    {
        _fd = fd;
        _path = path;
    }

    /// <summary>Takes the claim on <paramref name="rendezvous"/>'s directory (created if needed).</summary>
    /// <exception cref="DeisaException">Another analytics holds it (<see cref="DeisaStatus.State"/>, naming its pid).</exception>
    public static RendezvousClaim Take(Rendezvous rendezvous)
    {
        Directory.CreateDirectory(rendezvous.Directory);
        rendezvous.CheckTrusted();
        var path = Path.Combine(rendezvous.Directory, FileName);
        for (int attempt = 0; ; attempt++)
        {
            int fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, 0x180 /* 0600 */);
            if (fd < 0) throw DeisaException.Value($"cannot open {path}: {Libc.LastError()}");
            if (Libc.Flock(fd, Libc.LOCK_EX | Libc.LOCK_NB) != 0)
            {
                // The holder writes its pid right after taking the lock: give it a moment.
                var holder = ReadAll(fd).Trim();
                for (int i = 0; i < 20 && holder.Length == 0; i++)
                {
                    Thread.Sleep(50);
                    holder = ReadAll(fd).Trim();
                }
                Libc.Close(fd);
                throw rendezvous.Taken($"{(holder.Length > 0 ? $"pid {holder}" : "starting")}, holding {FileName}");
            }
            // The holder before removed the file as it ended, after this open: the lock is on a
            // file no one else sees. Take the new one instead.
            if (new FileInfo($"/proc/self/fd/{fd}").LinkTarget?.EndsWith(" (deleted)", StringComparison.Ordinal) == true && attempt < 10)
            {
                Libc.Close(fd);
                continue;
            }
            var pid = Encoding.ASCII.GetBytes(Environment.ProcessId.ToString());
            Libc.FTruncate(fd, 0);
            fixed (byte* p = pid) Libc.Write(fd, p, (nuint)pid.Length);
            return new RendezvousClaim(fd, path);
        }
    }

    private static string ReadAll(int fd)
    {
        var buffer = new byte[64];
        nint n;
        fixed (byte* p = buffer) n = Libc.Read(fd, p, (nuint)buffer.Length);
        return n > 0 ? Encoding.ASCII.GetString(buffer, 0, (int)n) : "";
    }

    /// <summary>Lets the directory go: the file is removed while still locked, then unlocked.</summary>
    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd < 0) return;
        Libc.Unlink(_path);
        Libc.Close(fd);
    }
}
