using Deisa.Engine.Node;
using Deisa.Model;

namespace Deisa.Core.Tests;

/// <summary>
/// Once every rank registered, the node prepares the memory of the first timesteps' blocks
/// (declared dtypes, at most half the pool), so that the first sends reuse it instead of
/// creating and pre-faulting segments; a run that ends meanwhile leaves nothing behind.
/// </summary>
public class ReservationTests
{
    private const long Block = 4 * 4096; // a (64, 64) int32 block

    private static Func<int, IReadOnlyList<BlockDeclaration>> Strips(DType dtype) => rank =>
        [new BlockDeclaration(rank, "a", [128, 64], [64, 64], [rank, 0], dtype, MemoryOrder.C)];

    private static async Task<PoolUsage> SettledUsageAsync(Run run, int segments)
    {
        // Segments are created off the node's loop: wait for them (bounded).
        var deadline = DateTime.UtcNow + Run.Timeout;
        while (true)
        {
            var usage = await run.UsageAsync();
            if (usage.Segments >= segments || DateTime.UtcNow > deadline) return usage;
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task The_first_timesteps_blocks_are_ready_before_the_first_send()
    {
        await using var run = Run.Start(maxSimulationAhead: 1, poolBytes: 1 << 20);
        await run.AndAsync("a");
        await run.RegisterAsync(2, Strips(DType.Int32));
        // Two ranks, two timesteps in flight (max_simulation_ahead + 1) and the slot granted
        // ahead for the next: six blocks.
        var before = await SettledUsageAsync(run, 6);
        Assert.Equal((6, 6 * Block, 0L), (before.Segments, before.Allocated, before.InUse));

        await run.SendAllAsync(2, "a", 0);
        var after = await run.UsageAsync();
        Assert.Equal(6, after.Segments); // the sends used them: no new segment
        Assert.Equal(2 * Block, after.InUse);
    }

    [Fact]
    public async Task Arrays_without_a_declared_dtype_get_nothing_yet()
    {
        await using var run = Run.Start(poolBytes: 1 << 20);
        await run.AndAsync("a");
        await run.RegisterAsync(2, Strips(DType.Undeclared));
        await Task.Delay(100);
        Assert.Equal(0, (await run.UsageAsync()).Segments);
    }

    [Fact]
    public async Task Reservation_takes_at_most_half_the_pool()
    {
        await using var run = Run.Start(maxSimulationAhead: 3, poolBytes: 6 * Block);
        await run.AndAsync("a");
        await run.RegisterAsync(2, Strips(DType.Int32));
        await SettledUsageAsync(run, 3);
        await Task.Delay(100); // and no more come
        var usage = await run.UsageAsync();
        Assert.Equal(3, usage.Segments); // 8 blocks wanted, room for 3 in half of 6
        Assert.True(usage.Allocated <= 3 * Block);
    }
}
