using Deisa.Analytics;
using Deisa.Model;
using Deisa.SharedMemory;

namespace Deisa.Processes.Tests.Fixtures;

/// <summary>
/// A run of its own: a fresh temporary directory used as working directory and rendezvous of
/// the processes and the host, so tests run in parallel with each other and with other suites.
/// Disposing it kills the processes still running and removes the directory.
/// </summary>
internal sealed class RunDirectory : IDisposable
{
    /// <summary>Upper bound of every wait in these tests.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private readonly List<ChildProcess> _children = new();

    public RunDirectory()
    {
        // Short: the Unix socket lives in it and socket paths are limited to 108 bytes.
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"deisa-p{Guid.NewGuid():N}"[..18]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>Environment of the launched programs: the rendezvous is this directory.</summary>
    public Dictionary<string, string> Environment => new() { ["DEISA_RENDEZVOUS"] = Path };

    /// <summary>An analytics host whose rendezvous is this directory.</summary>
    public AnalyticsHost Host(long poolBytes = 16 << 20, int maxSimulationAhead = 1) => new(new AnalyticsOptions
    {
        RendezvousDirectory = Path,
        Timeout = Limit,
        PoolBytes = poolBytes,
        MaxSimulationAhead = maxSimulationAhead,
    });

    /// <summary>Starts <c>dotnet <paramref name="dll"/> args...</c> in this directory.</summary>
    public ChildProcess Dotnet(string name, string dll, params string[] args) => Track(ChildProcess.Start(name, Programs.DotNet, [dll, .. args], Path, Environment));

    /// <summary>Starts any program in this directory.</summary>
    public ChildProcess Start(string name, string file, IEnumerable<string> args, Dictionary<string, string>? environment = null) =>
        Track(ChildProcess.Start(name, file, args, Path, environment ?? Environment));

    /// <summary>Starts one process per rank of <paramref name="dll"/> with <c>--rank r --world n</c> and <paramref name="args"/>.</summary>
    public ChildProcess[] Ranks(string dll, int world, params string[] args) =>
        Enumerable.Range(0, world).Select(r => Dotnet($"rank {r}", dll, ["--rank", r.ToString(), "--world", world.ToString(), .. args])).ToArray();

    private ChildProcess Track(ChildProcess child)
    {
        lock (_children) _children.Add(child);
        return child;
    }

    /// <summary>Asserts that no shared-memory segment of the host's session is left in /dev/shm.</summary>
    public static void AssertNoSharedMemory(AnalyticsHost host)
    {
        var left = Directory.GetFiles(Segment.Directory, host.Info!.SegmentPrefix + "*");
        Assert.True(left.Length == 0, $"shared memory left: {string.Join(", ", left)}");
    }

    public void Dispose()
    {
        lock (_children) foreach (var c in _children) c.Dispose();
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
