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

/// <summary>A head's inbox that records what a node actor tells it, for node-only tests.</summary>
internal sealed class RecordingHead : IHeadInbox
{
    private readonly List<HeadMessage> _messages = new();

    public void Tell(HeadMessage message)
    {
        lock (_messages) _messages.Add(message);
    }

    /// <summary>The blocks the node reported committed, in order.</summary>
    public IReadOnlyList<BlockArrived> Arrivals
    {
        get { lock (_messages) return _messages.OfType<BlockArrived>().ToList(); }
    }
}
