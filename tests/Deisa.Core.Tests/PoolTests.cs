using Deisa.Engine.Node;
using Deisa.Model;

namespace Deisa.Core.Tests;

/// <summary>
/// The node actor's shared-memory pool (docs/specification.md §3, §4 memory): a full pool makes rent requests
/// wait (never drop) until a lease is released; a block that can never fit fails at once; a
/// slot goes back to the pool when its last lease goes.
/// </summary>
public class PoolTests : IAsyncLifetime
{
    private const long Page = 4096;
    private readonly string _prefix = Shm.NewPrefix();
    private readonly RecordingHead _sink = new();
    private NodeActor _node = null!;

    public Task InitializeAsync()
    {
        _node = new NodeActor(_prefix, 2 * Page, _sink); // room for two one-page blocks
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _node.ShutdownAsync().WaitAsync(Run.Timeout);
        await _node.DisposeAsync();
        Shm.AssertNone(_prefix);
    }

    private static BlockSend Request(int rank, long t, long nbytes = Page, string array = "a") =>
        new(rank, array, t, DType.UInt8, [nbytes], MemoryOrder.C, nbytes);

    private Task<RentedSlot> RentAsync(int rank, long t, long nbytes = Page, CancellationToken ct = default) =>
        _node.RentAsync(Request(rank, t, nbytes), 0, ct);

    private async Task<PoolUsage> Usage() => await _node.UsageAsync().WaitAsync(Run.Timeout);

    [Fact]
    public async Task AFullPoolMakesRentWaitUntilALeaseIsReleased()
    {
        var a = await RentAsync(0, 0).WaitAsync(Run.Timeout);
        var b = await RentAsync(1, 0).WaitAsync(Run.Timeout);
        await _node.CommitAsync(a.Slot.Id, 0).WaitAsync(Run.Timeout);
        await _node.CommitAsync(b.Slot.Id, 1).WaitAsync(Run.Timeout);

        var c = RentAsync(0, 1);
        var usage = await Usage();
        Assert.Equal((2 * Page, 2, 1), (usage.InUse, usage.Blocks, usage.WaitingSends));
        Assert.False(c.IsCompleted);

        _node.Release(a.Slot.Id); // the head / analytics let go of the block of rank 0
        var rented = await c.WaitAsync(Run.Timeout);
        Assert.Equal(a.Slot.Segment.Name, rented.Slot.Segment.Name); // the freed segment is reused
        Assert.NotEqual(a.Slot.Id, rented.Slot.Id);
        Assert.Equal(0, (await Usage()).WaitingSends);
    }

    [Fact]
    public async Task AWaitingRentIsNeverDroppedAndWaitsInOrder()
    {
        var held = await RentAsync(0, 0, 2 * Page).WaitAsync(Run.Timeout); // the whole pool
        await _node.CommitAsync(held.Slot.Id, 0).WaitAsync(Run.Timeout);

        var first = RentAsync(1, 0, 2 * Page);
        var second = RentAsync(2, 0, Page);
        // Other traffic while they wait: commits and releases of unrelated slots change nothing.
        _node.Release(12345);
        _node.Abandon(12345, 1);
        var usage = await Usage();
        Assert.Equal(2, usage.WaitingSends);
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted); // FIFO: the small request waits behind the large one

        _node.Release(held.Slot.Id);
        var r1 = await first.WaitAsync(Run.Timeout);
        Assert.Equal(2 * Page, r1.Slot.Segment.Capacity);
        Assert.False(second.IsCompleted);
        Assert.Equal(1, (await Usage()).WaitingSends);

        _node.Abandon(r1.Slot.Id, 1); // the bridge gave up writing: the slot goes back
        await second.WaitAsync(Run.Timeout);
    }

    [Fact]
    public async Task ACancelledWaitLeavesTheQueue()
    {
        var held = await RentAsync(0, 0, 2 * Page).WaitAsync(Run.Timeout);
        using var cts = new CancellationTokenSource();
        var waiting = RentAsync(1, 0, Page, cts.Token);
        Assert.Equal(1, (await Usage()).WaitingSends);

        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Run.Timeout));
        Assert.Equal(0, (await Usage()).WaitingSends);
        _node.Abandon(held.Slot.Id, 0);
        Assert.Equal(0, (await Usage()).InUse);
    }

    [Fact]
    public async Task ABlockBiggerThanThePoolFailsAtOnceWithAClearError()
    {
        var rent = RentAsync(0, 0, 2 * Page + 1);
        var e = await Assert.ThrowsAsync<DeisaException>(() => rent.WaitAsync(Run.Timeout));
        Assert.Equal(DeisaStatus.Value, e.Status);
        Assert.Contains("'a'", e.Message);
        Assert.Contains($"{2 * Page + 1} bytes does not fit", e.Message);
        Assert.Contains($"pool of {2 * Page} bytes", e.Message);
        Assert.Contains("pool_size", e.Message);
        var usage = await Usage();
        Assert.Equal((0, 0L), (usage.WaitingSends, usage.Allocated));
    }

    [Fact]
    public async Task ASlotReturnsToThePoolWhenItsLastLeaseGoes()
    {
        var a = await RentAsync(0, 0).WaitAsync(Run.Timeout);
        await _node.CommitAsync(a.Slot.Id, 0).WaitAsync(Run.Timeout); // one lease: the head's
        _node.AddLease(a.Slot.Id);                                      // a second view handed out

        _node.Release(a.Slot.Id);
        Assert.Equal((Page, 1), ((await Usage()).InUse, (await Usage()).Blocks));
        _node.Release(a.Slot.Id);
        var usage = await Usage();
        Assert.Equal((0L, 0), (usage.InUse, usage.Blocks));
        Assert.Equal(Page, usage.Allocated); // kept for reuse, not destroyed
        _node.Release(a.Slot.Id);            // one release too many: ignored
        Assert.Equal(0L, (await Usage()).InUse);
    }

    [Fact]
    public async Task ACommitReportsTheBlockToTheHeadOnceAndOnlyForTheRankWritingIt()
    {
        var a = await RentAsync(1, 7).WaitAsync(Run.Timeout);
        var e = await Assert.ThrowsAsync<DeisaException>(() => _node.CommitAsync(a.Slot.Id, 0).WaitAsync(Run.Timeout));
        Assert.Equal(DeisaStatus.State, e.Status);

        await _node.CommitAsync(a.Slot.Id, 1).WaitAsync(Run.Timeout);
        await Assert.ThrowsAsync<DeisaException>(() => _node.CommitAsync(a.Slot.Id, 1).WaitAsync(Run.Timeout));
        var arrival = Assert.Single(_sink.Arrivals);
        Assert.Equal((1, "a", 7L, a.Slot.Id), (arrival.Rank, arrival.Array, arrival.Timestep, arrival.Location.Lease));
    }

    [Fact]
    public async Task AReleaseBeforeTheCommitDoesNotFreeTheSlot()
    {
        var a = await RentAsync(0, 0).WaitAsync(Run.Timeout);
        _node.Release(a.Slot.Id); // the bridge is still writing: only Abandon gives it back
        Assert.Equal(1, (await Usage()).Blocks);
        await _node.CommitAsync(a.Slot.Id, 0).WaitAsync(Run.Timeout);
        Assert.Single(_sink.Arrivals);
    }

    [Fact]
    public async Task ShutdownFailsWaitersAndRemovesEverySegmentEvenWithLeasesHeld()
    {
        var a = await RentAsync(0, 0).WaitAsync(Run.Timeout);
        await _node.CommitAsync(a.Slot.Id, 0).WaitAsync(Run.Timeout); // held (lease not released)
        var b = await RentAsync(1, 0).WaitAsync(Run.Timeout);           // being written
        var waiting = RentAsync(2, 0);
        Assert.Equal(2, Shm.Files(_prefix).Length);

        await _node.ShutdownAsync().WaitAsync(Run.Timeout);
        Shm.AssertNone(_prefix);
        var e = await Assert.ThrowsAsync<DeisaException>(() => waiting.WaitAsync(Run.Timeout));
        Assert.Equal(DeisaStatus.AnalyticsLost, e.Status);
        // A view still reading the held block stays valid until its lease goes.
        a.Slot.Segment.Span[0] = 42;
        Assert.Equal(42, a.Slot.Segment.Span[0]);
        _node.Release(a.Slot.Id);
        await Usage();
        Assert.Throws<ObjectDisposedException>(() => a.Slot.Segment.Address);
        _ = b;
    }
}
