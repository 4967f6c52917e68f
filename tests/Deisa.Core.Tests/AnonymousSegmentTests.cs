using Deisa.Model;
using Deisa.SharedMemory;

namespace Deisa.Core.Tests;

/// <summary>Anonymous (memfd) segments, a cluster node's: nothing in /dev/shm, opened by name
/// through the creator's descriptor, gone once closed.</summary>
public class AnonymousSegmentTests
{
    [Fact]
    public void AnAnonymousSegmentIsSharedThroughItsNameAndLeavesNoFile()
    {
        var label = Shm.NewPrefix() + "-0";
        var before = Directory.GetFiles(Segment.Directory, label + "*");
        using var created = Segment.CreateAnonymous(label, 8192);
        Assert.StartsWith($"{Segment.AnonymousPrefix}{Environment.ProcessId}:", created.Name);
        Assert.EndsWith(":" + label, created.Name);
        Assert.Empty(Directory.GetFiles(Segment.Directory, label + "*"));
        Assert.Empty(before);

        created.Span[5000] = 42;
        using (var opened = Segment.Open(created.Name, 8192)) // as a rank maps it: a mapping of the same memory
        {
            Assert.Equal(42, opened.Span[5000]);
            opened.Span[7] = 9;
        }
        Assert.Equal(9, created.Span[7]);

        created.Unlink(); // its descriptor closed: no one can open it any more, the mapping stays valid
        Assert.Equal(42, created.Span[5000]);
        var e = Assert.Throws<DeisaException>(() => Segment.Open(created.Name, 8192));
        Assert.Contains("/proc/", e.Message);
    }

    [Theory]
    [InlineData("memfd:")]
    [InlineData("memfd:12:x:label")]
    [InlineData("memfd:-3:4:label")]
    [InlineData("../etc/passwd")]
    [InlineData("")]
    public void AMalformedNameIsRefused(string name)
    {
        var e = Assert.Throws<DeisaException>(() => Segment.Open(name, 4096));
        Assert.Contains("invalid shared memory name", e.Message);
    }

    [Fact]
    public void AnAnonymousPoolCreatesAnonymousSegments()
    {
        var prefix = Shm.NewPrefix();
        using var pool = new SegmentPool(prefix, 1 << 20, anonymous: true);
        var slot = pool.TryRent(1000)!;
        Assert.StartsWith(Segment.AnonymousPrefix, slot.Segment.Name);
        Assert.Empty(Directory.GetFiles(Segment.Directory, prefix + "*"));
        pool.Return(slot);
    }
}
