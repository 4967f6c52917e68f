// Deisa runs on Linux: POSIX shared memory under /dev/shm, Unix sockets, file modes.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
