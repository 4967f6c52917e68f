using Deisa.Hosting;
namespace Deisa.Core.Tests;

/// <summary>The analytics collects its young generation once it allocated past the cap.</summary>
public class YoungGenerationCapTests
{
    [Fact]
    public void Allocating_past_the_cap_collects_the_young_generation()
    {
        // A collection by a test running alongside, between the cap's creation and its check,
        // rightly makes the check skip: a few attempts tell that from a cap that never collects.
        bool collected = false;
        for (int attempt = 0; attempt < 5 && !collected; attempt++)
        {
            var cap = new YoungGenerationCap(64 * 1024);
            cap.Check(); // the first check settles (a full collection)
            var keep = new List<byte[]>();
            for (int i = 0; i < 64; i++) keep.Add(new byte[4096]); // 256 KiB, well under the runtime's own budget
            int before = GC.CollectionCount(0);
            cap.Check();
            collected = GC.CollectionCount(0) > before;
            GC.KeepAlive(keep);
        }
        Assert.True(collected, "a check past the cap should have collected generation 0");
    }

    [Fact]
    public void The_first_check_collects_everything_once()
    {
        var cap = new YoungGenerationCap(long.MaxValue); // the cap itself never collects
        int before = GC.CollectionCount(GC.MaxGeneration);
        cap.Check();
        Assert.True(GC.CollectionCount(GC.MaxGeneration) > before, "the first check should have settled the heap with a full collection");
    }
}
