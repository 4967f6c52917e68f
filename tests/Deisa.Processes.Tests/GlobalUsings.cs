global using Xunit;
global using Deisa.Analytics;
global using Deisa.Model;
global using Deisa.Processes.Tests.Fixtures;

// The engine runs on Linux only (POSIX shared memory under /dev/shm), and so do its tests.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
