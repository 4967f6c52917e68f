using System.Runtime.InteropServices;

namespace Deisa.Platform;

/// <summary>The few POSIX calls deisa makes: shared memory, processes, a thread's scheduling policy, poll and
/// eventfd (Linux x86-64 values).</summary>
internal static partial class Libc
{
    public const int O_RDWR = 0x2, O_CREAT = 0x40, O_EXCL = 0x80, O_CLOEXEC = 0x80000;
    public const int PROT_READ = 0x1, PROT_WRITE = 0x2;
    public const int MAP_SHARED = 0x01, MAP_POPULATE = 0x8000;
    public const int MADV_POPULATE_WRITE = 23;
    public const uint MFD_CLOEXEC = 0x1;
    public static readonly nint MAP_FAILED = -1;

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "memfd_create", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int MemfdCreate(string name, uint flags);

    public const int LOCK_EX = 2, LOCK_NB = 4;

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEUid();

    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int Stat(string path, byte* buffer);

    /// <summary>The owner and permission bits of <paramref name="path"/> (following links), or
    /// null if it cannot be read (it does not exist).</summary>
    public static unsafe (uint Uid, uint Mode)? OwnerAndMode(string path)
    {
        byte* buffer = stackalloc byte[256]; // struct stat is 144 bytes on x86-64
        if (Stat(path, buffer) != 0) return null;
        return (*(uint*)(buffer + 28), *(uint*)(buffer + 24)); // st_uid, st_mode (x86-64 layout)
    }

    public const int MSG_DONTWAIT = 0x40, EAGAIN = 11;

    /// <summary>recv(2): with <see cref="MSG_DONTWAIT"/>, what arrived, without waiting.</summary>
    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static unsafe partial nint Recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int FTruncate(int fd, long length);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    public static partial int FChmod(int fd, int mode);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(nint addr, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    public static partial int Madvise(nint addr, nuint length, int advice);

    [LibraryImport("libc", EntryPoint = "unlink", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Unlink(string path);

    public const int SCHED_OTHER = 0, SCHED_BATCH = 3;

    /// <summary>Sets the calling thread's policy when <paramref name="pid"/> is 0; <paramref name="priority"/> is the
    /// struct sched_param (0 for these policies).</summary>
    [LibraryImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    public static partial int SchedSetScheduler(int pid, int policy, ref int priority);

    [LibraryImport("libc", EntryPoint = "getpid")]
    public static partial int GetPid();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    public const short POLLIN = 0x1, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20;
    public const int EFD_NONBLOCK = 0x800, EFD_CLOEXEC = 0x80000;
    public const int EINTR = 4;

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static unsafe partial nint Write(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static unsafe partial nint Read(int fd, void* buffer, nuint count);

    public static string LastError() => Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());

    /// <summary>True if the process exists and has not ended (a zombie waiting to be reaped has ended).</summary>
    public static bool ProcessAlive(int pid)
    {
        if (!ProcessExists(pid)) return false;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return close < 0 || close + 2 >= stat.Length || stat[close + 2] is not ('Z' or 'X');
        }
        catch (IOException) { return false; }
    }

    /// <summary>
    /// When the process <paramref name="pid"/> started, in clock ticks since boot (field 22 of
    /// /proc/pid/stat), or null if there is no such process. With the pid it names one process
    /// for good: a pid is reused, a pid with its start time is not.
    /// </summary>
    public static long? ProcessStartTime(int pid)
    {
        if (pid <= 0) return null;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')'); // the command name may hold spaces and parentheses
            if (close < 0) return null;
            var fields = stat[(close + 2)..].Split(' ');
            return fields.Length > 19 && long.TryParse(fields[19], out long start) ? start : null; // field 22 is the 20th after ')'
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>True if a process with this pid exists.</summary>
    public static bool ProcessExists(int pid) =>
        pid > 0 && (Kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() == 1 /* EPERM */);
}
