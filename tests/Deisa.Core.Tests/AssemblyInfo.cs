// The engine runs on Linux only (POSIX shared memory under /dev/shm), and so do its tests.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
