using Deisa.Model;
using Deisa.Platform;

namespace Deisa.SharedMemory;

/// <summary>
/// One shared-memory segment: a file under <c>/dev/shm</c> (mode 0600) mapped into this process,
/// or an anonymous one (<c>memfd_create</c>: a cluster node's, which a killed process cannot
/// leave behind), named <c>memfd:{pid}:{fd}:{label}</c> and opened by the node's ranks through
/// <c>/proc/{pid}/fd/{fd}</c> (the creator's user only). The node actor creates and pre-faults
/// segments; bridges map existing ones by name.
/// </summary>
public sealed unsafe class Segment : IDisposable
{
    /// <summary>Directory where POSIX shared memory lives on Linux.</summary>
    public const string Directory = "/dev/shm";

    /// <summary>How an anonymous segment's name starts.</summary>
    public const string AnonymousPrefix = "memfd:";

    private readonly bool _owner;
    private nint _address;
    private int _fd = -1; // an anonymous segment's own descriptor, kept open while it may be opened

    private Segment(string name, long capacity, nint address, bool owner)
    {
        Name = name;
        Capacity = capacity;
        _address = address;
        _owner = owner;
    }

    /// <summary>File name under <see cref="Directory"/>, or an anonymous segment's <c>memfd:{pid}:{fd}:{label}</c>.</summary>
    public string Name { get; }

    /// <summary>Size in bytes.</summary>
    public long Capacity { get; }

    /// <summary>Start of the mapping in this process.</summary>
    public nint Address => _address != 0 ? _address : throw new ObjectDisposedException(Name);

    /// <summary>The whole segment as bytes.</summary>
    public Span<byte> Span => new((void*)Address, checked((int)Math.Min(Capacity, int.MaxValue)));

    /// <summary>Bytes at an offset (the slot of one block).</summary>
    public Span<byte> Slice(long offset, long length) =>
        new((byte*)Address + offset, checked((int)length));

    /// <summary>
    /// Creates a new segment of <paramref name="capacity"/> bytes and touches every page, so
    /// that the first copy of a block into it runs at memory speed, not page-fault speed.
    /// </summary>
    public static Segment Create(string name, long capacity)
    {
        var path = System.IO.Path.Combine(Directory, name);
        int fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC, 0x180 /* 0600 */);
        if (fd < 0) throw new DeisaException(DeisaStatus.Internal, $"cannot create shared memory {path}: {Libc.LastError()}");
        try
        {
            Libc.FChmod(fd, 0x180); // umask may have narrowed it; never widened.
            if (Libc.FTruncate(fd, capacity) != 0)
                throw new DeisaException(DeisaStatus.Internal, $"cannot size shared memory {path} to {capacity} bytes: {Libc.LastError()}");
            var addr = Libc.Mmap(0, (nuint)capacity, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | Libc.MAP_POPULATE, fd, 0);
            if (addr == Libc.MAP_FAILED)
                throw new DeisaException(DeisaStatus.Internal, $"cannot map shared memory {path}: {Libc.LastError()}");
            var segment = new Segment(name, capacity, addr, owner: true);
            segment.Prefault();
            return segment;
        }
        catch
        {
            Libc.Unlink(path);
            throw;
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>
    /// Creates an anonymous segment (memfd) of <paramref name="capacity"/> bytes, pre-faulted
    /// as <see cref="Create"/> does. Nothing of it is in <see cref="Directory"/>: its memory goes
    /// with the last descriptor and mapping, whatever ends the processes.
    /// </summary>
    public static Segment CreateAnonymous(string label, long capacity)
    {
        int fd = Libc.MemfdCreate(label, Libc.MFD_CLOEXEC);
        if (fd < 0) throw new DeisaException(DeisaStatus.Internal, $"cannot create anonymous shared memory {label}: {Libc.LastError()}");
        try
        {
            if (Libc.FTruncate(fd, capacity) != 0)
                throw new DeisaException(DeisaStatus.Internal, $"cannot size shared memory {label} to {capacity} bytes: {Libc.LastError()}");
            var addr = Libc.Mmap(0, (nuint)capacity, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | Libc.MAP_POPULATE, fd, 0);
            if (addr == Libc.MAP_FAILED)
                throw new DeisaException(DeisaStatus.Internal, $"cannot map shared memory {label}: {Libc.LastError()}");
            var segment = new Segment($"{AnonymousPrefix}{Environment.ProcessId}:{fd}:{label}", capacity, addr, owner: true) { _fd = fd };
            segment.Prefault();
            return segment;
        }
        catch
        {
            Libc.Close(fd);
            throw;
        }
    }

    /// <summary>The file that opens segment <paramref name="name"/>: under <see cref="Directory"/>,
    /// or its creator's descriptor for an anonymous one.</summary>
    private static string PathOf(string name)
    {
        if (name.StartsWith(AnonymousPrefix, StringComparison.Ordinal))
        {
            var parts = name[AnonymousPrefix.Length..].Split(':', 3);
            if (parts.Length == 3 && int.TryParse(parts[0], out int pid) && pid > 0 && int.TryParse(parts[1], out int fd) && fd >= 0)
                return $"/proc/{pid}/fd/{fd}";
        }
        else if (!name.Contains('/') && !name.StartsWith('.') && name.Length > 0)
            return System.IO.Path.Combine(Directory, name);
        throw new DeisaException(DeisaStatus.Internal, $"invalid shared memory name '{name}'");
    }

    /// <summary>Maps an existing segment read-write (a bridge writing blocks into it).</summary>
    public static Segment Open(string name, long capacity)
    {
        var path = PathOf(name);
        int fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        if (fd < 0) throw new DeisaException(DeisaStatus.AnalyticsLost, $"cannot open shared memory {path}: {Libc.LastError()}");
        try
        {
            var addr = Libc.Mmap(0, (nuint)capacity, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | Libc.MAP_POPULATE, fd, 0);
            if (addr == Libc.MAP_FAILED)
                throw new DeisaException(DeisaStatus.Internal, $"cannot map shared memory {path}: {Libc.LastError()}");
            return new Segment(name, capacity, addr, owner: false);
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    // MAP_POPULATE on a shared mapping may leave pages unallocated on some kernels; writing one
    // byte per page makes sure every page exists before the first block is copied in.
    private void Prefault()
    {
        if (Libc.Madvise(_address, (nuint)Capacity, Libc.MADV_POPULATE_WRITE) == 0) return;
        byte* p = (byte*)_address;
        for (long i = 0; i < Capacity; i += 4096) p[i] = 0;
    }

    private int _unlinked;

    /// <summary>
    /// Removes the segment's file (the creator only). Mappings stay valid until unmapped, so
    /// views still reading the block are safe; the memory is freed by the last unmap.
    /// </summary>
    public void Unlink()
    {
        if (!_owner || Interlocked.Exchange(ref _unlinked, 1) != 0) return;
        if (_fd >= 0) Libc.Close(Interlocked.Exchange(ref _fd, -1)); // an anonymous segment: no longer openable
        else Libc.Unlink(System.IO.Path.Combine(Directory, Name));
    }

    /// <summary>Unmaps the segment; the creator also removes its file.</summary>
    public void Dispose()
    {
        Unlink();
        var addr = Interlocked.Exchange(ref _address, 0);
        if (addr != 0) Libc.Munmap(addr, (nuint)Capacity);
    }
}
