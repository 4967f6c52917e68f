using Deisa.SharedMemory;

namespace Deisa.Core.Tests;

/// <summary>The segment pool: reuse of freed segments within the budget, and the log of destroyed segments.</summary>
public class SegmentPoolTests
{
    private const long Page = 4096;

    [Fact]
    public void FootprintIsWholePagesAndAtLeastOne()
    {
        Assert.Equal(Page, SegmentPool.Footprint(0));
        Assert.Equal(Page, SegmentPool.Footprint(1));
        Assert.Equal(Page, SegmentPool.Footprint(Page));
        Assert.Equal(2 * Page, SegmentPool.Footprint(Page + 1));
    }

    [Fact]
    public void ARentWaitsForAFittingReservationInsteadOfCreatingAnotherSegment()
    {
        var prefix = Shm.NewPrefix();
        using (var pool = new SegmentPool(prefix, 16 * Page))
        {
            var name = pool.Reserve(3 * Page, 16 * Page)!;
            Assert.Null(pool.TryRent(3 * Page));       // the reserved segment is on its way
            var small = pool.TryRent(100)!;             // too big a segment for this one: it gets its own
            Assert.Equal(Page, small.Segment.Capacity);
            pool.AddReserved(Segment.Create(name, 3 * Page));
            var slot = pool.TryRent(3 * Page)!;
            Assert.Equal(name, slot.Segment.Name);
            Assert.Equal((4 * Page, 2), (pool.Allocated, pool.SegmentCount));

            var cancelled = pool.Reserve(3 * Page, 16 * Page)!;
            Assert.Null(pool.TryRent(3 * Page));
            pool.CancelReserved(3 * Page);              // its creation failed: a rent creates one now
            var own = pool.TryRent(3 * Page)!;
            Assert.NotEqual(cancelled, own.Segment.Name);
            Assert.Equal((7 * Page, 3), (pool.Allocated, pool.SegmentCount));
            foreach (var s in new[] { small, slot, own }) pool.Return(s);
        }
        Shm.AssertNone(prefix);
    }

    [Fact]
    public void AReturnedSegmentIsReusedSoAllocationStaysConstant()
    {
        var prefix = Shm.NewPrefix();
        using (var pool = new SegmentPool(prefix, 4 * Page))
        {
            var names = new HashSet<string>();
            for (int i = 0; i < 100; i++)
            {
                var a = pool.TryRent(3000)!;
                var b = pool.TryRent(Page)!;
                names.Add(a.Segment.Name);
                names.Add(b.Segment.Name);
                Assert.Equal((2 * Page, 2 * Page, 2), (pool.Allocated, pool.InUse, pool.SegmentCount));
                pool.Return(a);
                pool.Return(b);
            }
            Assert.Equal(2, names.Count);
            Assert.Equal(0, pool.InUse);
            Assert.Equal(0, pool.RetiredSeq);
        }
        Shm.AssertNone(prefix);
    }

    [Fact]
    public void AFullBudgetRefusesUntilASegmentIsReturned()
    {
        var prefix = Shm.NewPrefix();
        using (var pool = new SegmentPool(prefix, 2 * Page))
        {
            var a = pool.TryRent(Page)!;
            var b = pool.TryRent(Page)!;
            Assert.Null(pool.TryRent(1));
            pool.Return(a);
            var c = pool.TryRent(1)!;
            Assert.Same(a.Segment, c.Segment);
            pool.Return(b);
            pool.Return(c);
        }
        Shm.AssertNone(prefix);
        Assert.False(new SegmentPool(Shm.NewPrefix(), Page).CanEverFit(Page + 1));
    }

    [Fact]
    public void ABlockOfAnotherSizeDestroysFreeSegmentsToMakeRoomAndLogsThem()
    {
        var prefix = Shm.NewPrefix();
        using (var pool = new SegmentPool(prefix, 4 * Page))
        {
            var small = new[] { pool.TryRent(Page)!, pool.TryRent(Page)!, pool.TryRent(Page)!, pool.TryRent(Page)! };
            foreach (var s in small) pool.Return(s);
            Assert.Equal(4 * Page, pool.Allocated);

            var big = pool.TryRent(3 * Page)!; // free one-page segments are too small: three are destroyed
            Assert.Equal(3 * Page, big.Segment.Capacity);
            Assert.Equal((4 * Page, 2), (pool.Allocated, pool.SegmentCount));
            Assert.Equal(3, pool.RetiredSeq);
            var retired = pool.RetiredSince(0)!;
            Assert.Equal(3, retired.Count);
            Assert.All(retired, name => Assert.DoesNotContain(name, Shm.Files(prefix)));
            Assert.Equal(retired.Skip(1), pool.RetiredSince(1));
            Assert.Empty(pool.RetiredSince(3)!);
            pool.Return(big);
        }
        Shm.AssertNone(prefix);
    }

    [Fact]
    public void AMuchLargerFreeSegmentIsNotUsedForASmallBlock()
    {
        var prefix = Shm.NewPrefix();
        using (var pool = new SegmentPool(prefix, 8 * Page))
        {
            var big = pool.TryRent(4 * Page)!;
            pool.Return(big);
            var small = pool.TryRent(Page)!; // 4 pages > 2 x 1 page: a new segment
            Assert.NotSame(big.Segment, small.Segment);
            pool.Return(small);
            var mid = pool.TryRent(2 * Page + 1)!; // 3 pages needed: the 4-page segment fits (<= 2 x 3)
            Assert.Same(big.Segment, mid.Segment);
            pool.Return(mid);
        }
        Shm.AssertNone(prefix);
    }

    [Fact]
    public void SegmentsAreCreatedWithMode0600()
    {
        var prefix = Shm.NewPrefix();
        using (var pool = new SegmentPool(prefix, Page))
        {
            var s = pool.TryRent(1)!;
            var mode = File.GetUnixFileMode(Path.Combine(Segment.Directory, s.Segment.Name));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
            pool.Return(s);
        }
        Shm.AssertNone(prefix);
    }
}
