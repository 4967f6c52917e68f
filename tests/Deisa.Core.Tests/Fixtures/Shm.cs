using Deisa.Engine.Node;
using Deisa.SharedMemory;
namespace Deisa.Core.Tests.Fixtures;

/// <summary>Unique segment prefixes and checks of what a test left in /dev/shm.</summary>
internal static class Shm
{
    /// <summary>A segment prefix no other test uses ("deisa-test" + 10 hex digits).</summary>
    public static string NewPrefix() => $"deisa-test{Guid.NewGuid():N}"[..20];

    /// <summary>Names of the segment files of <paramref name="prefix"/> that exist now.</summary>
    public static string[] Files(string prefix) =>
        Directory.GetFiles(Segment.Directory, prefix + "-*").Select(Path.GetFileName).OfType<string>().Order().ToArray();

    /// <summary>Fails if any segment file of <paramref name="prefix"/> is left.</summary>
    public static void AssertNone(string prefix)
    {
        var left = Files(prefix);
        Assert.True(left.Length == 0, $"shared memory left in {Segment.Directory}: {string.Join(", ", left)}");
    }
}

/// <summary>A block sink that records what a node actor reports, for node-only tests.</summary>
internal sealed class RecordingSink : IBlockSink
{
    private readonly List<BlockArrival> _arrivals = new();

    public void BlockArrived(BlockArrival block)
    {
        lock (_arrivals) _arrivals.Add(block);
    }

    public IReadOnlyList<BlockArrival> Arrivals
    {
        get { lock (_arrivals) return _arrivals.ToList(); }
    }
}
