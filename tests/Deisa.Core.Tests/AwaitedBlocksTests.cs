using Deisa.Engine.Head;
using Deisa.Platform;

namespace Deisa.Core.Tests;

/// <summary>
/// The head names the blocks that complete an array a callback waits for (such a block's
/// send wakes the waiting reader as it arrives, see <see cref="EventWaiter"/>); the event
/// queue nudges a listening reader through its eventfd, and only then.
/// </summary>
public class AwaitedBlocksTests
{
    [Fact]
    public async Task The_last_missing_block_of_an_array_is_awaited_until_it_arrives()
    {
        await using var run = Run.Start();
        await run.AndAsync("a");
        await run.RegisterStripsAsync(3, "a");

        await run.SendAsync(2, "a", 0);
        await run.StatusAsync(); // the head handled the arrival
        Assert.Empty(run.Head.AwaitedBlocks); // two blocks missing: no single block completes it yet
        await run.SendAsync(0, "a", 0);
        await run.StatusAsync();
        Assert.Equal([new AwaitedBlock(1, "a", 0)], run.Head.AwaitedBlocks);
        await run.SendAsync(1, "a", 0);
        await run.ExpectAsync<ArrayReady>();
        Assert.Empty(run.Head.AwaitedBlocks);
    }

    [Fact]
    public async Task Arrays_no_callback_reads_are_not_awaited()
    {
        await using var run = Run.Start();
        await run.AndAsync("a");
        await run.RegisterStripsAsync(2, "a", "b");

        await run.SendAsync(0, "b", 0);
        await run.StatusAsync();
        Assert.Empty(run.Head.AwaitedBlocks);
        await run.SendAsync(0, "a", 0);
        await run.StatusAsync();
        Assert.Equal([new AwaitedBlock(1, "a", 0)], run.Head.AwaitedBlocks);
    }

    [Fact]
    public unsafe void A_listening_reader_is_nudged_by_an_event_and_a_quiet_one_is_not()
    {
        var q = new EventQueue();
        int fd = Libc.EventFd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        Assert.True(fd >= 0);
        try
        {
            q.WakeFd = fd;
            long count = 0;
            q.Write(new TimestepDone(0)); // nobody listens: no signal
            Assert.Equal(-1, (long)Libc.Read(fd, &count, sizeof(long)));
            Assert.True(q.HasEvent);
            Assert.True(q.TryRead(out _));
            Assert.False(q.HasEvent);

            q.BeginListening();
            q.Write(new TimestepDone(1));
            Assert.Equal(sizeof(long), (long)Libc.Read(fd, &count, sizeof(long)));
            Assert.Equal(1, count);
            q.Nudge(); // what an awaited block's send does as it arrives
            Assert.Equal(sizeof(long), (long)Libc.Read(fd, &count, sizeof(long)));
            q.EndListening();
            q.Nudge();
            Assert.Equal(-1, (long)Libc.Read(fd, &count, sizeof(long)));
        }
        finally
        {
            q.WakeFd = -1;
            Libc.Close(fd);
        }
    }
}
