using Deisa.Analytics;
using Deisa.Model;
namespace Deisa.Processes.Tests;

/// <summary>
/// Shared memory across processes: blocks are given back as windows move on (so a pool of a
/// few blocks carries a long run), nothing is left after the run, feedback reaches every rank,
/// and a rank that dies ends the run with an error naming it.
/// </summary>
public sealed class LifetimeTests
{
    [Fact]
    public async Task Leases_are_given_back_as_the_window_moves_so_a_small_pool_carries_a_long_run()
    {
        const int steps = 40;
        using var dir = new RunDirectory();
        // 1 MiB blocks, a 5 MiB pool: only works if dropped timesteps return their memory.
        await using var host = dir.Host(poolBytes: 5 << 20);
        var kept = new List<DistributedArray>();
        int maxHeld = 0;
        host.Register(inputs =>
        {
            var window = inputs["c"];
            kept.Add(window.Newest);
            var held = kept.Where(a => !a.IsReleased).ToList();
            maxHeld = Math.Max(maxHeld, held.Count);
            // Only the window's arrays are still held.
            Assert.Equal(window.Select(a => a.Timestep), held.Select(a => a.Timestep));
            // Element (i, j) is t * 1e6 + 1000 i + j over 512 x 512: the mean is t * 1e6 + 1000 * 255.5 + 255.5.
            Assert.Equal(window.Newest.Timestep * 1e6 + 255_755.5, window.Newest.Mean<int>(), 1e-6);
        }, CallbackOptions.FailFast, new WindowSpec("c", 2));

        var run = host.RunAsync();
        var rank = dir.Ranks(Programs.TestSimulation, 1, "--steps", $"{steps}", "--rows", "512", "--cols", "512", "--arrays", "c", "--timeout", "20");
        await run.WaitAsync(RunDirectory.Limit);
        await rank[0].SucceedsAsync(RunDirectory.Limit);

        Assert.Equal(steps, kept.Count);
        Assert.Equal(2, maxHeld);
        Assert.All(kept, a => Assert.True(a.IsReleased));
        var e = Assert.Throws<ObjectDisposedException>(() => kept[^1].AsSpanOfFirstBlock());
        Assert.Contains("'c' at timestep 39", e.Message);
        RunDirectory.AssertNoSharedMemory(host);
    }

    [Fact]
    public async Task Every_rank_process_reads_the_same_feedback()
    {
        using var dir = new RunDirectory();
        await using var host = dir.Host();
        host.Register(async inputs => await host.SetAsync("note", $"seen {inputs.Timestep}", inputs.Timestep),
            CallbackOptions.FailFast, new WindowSpec("c"));
        var run = host.RunAsync();
        var ranks = dir.Ranks(Programs.TestSimulation, 2, "--steps", "4", "--arrays", "c", "--feedback", "note");
        await run.WaitAsync(RunDirectory.Limit);
        foreach (var r in ranks) await r.SucceedsAsync(RunDirectory.Limit);
        for (int r = 0; r < 2; r++)
            for (int t = 0; t < 3; t++)
                Assert.Contains($"feedback rank={r} t={t} value=seen {t}", ranks[r].Lines);
        RunDirectory.AssertNoSharedMemory(host);
    }

    [Fact]
    public async Task A_rank_process_that_dies_ends_the_run_with_an_error_naming_it()
    {
        using var dir = new RunDirectory();
        await using var host = dir.Host(maxSimulationAhead: 2);
        var ran = new List<long>();
        host.Register(inputs => ran.Add(inputs.Timestep), new WindowSpec("c"));
        var run = host.RunAsync();
        var healthy = dir.Dotnet("rank 0", Programs.TestSimulation, "--rank", "0", "--world", "2", "--steps", "3", "--arrays", "c", "--timeout", "20");
        var dying = dir.Dotnet("rank 1", Programs.TestSimulation, "--rank", "1", "--world", "2", "--steps", "3", "--arrays", "c", "--exit-after", "0");
        var e = await Assert.ThrowsAsync<DeisaException>(() => run.WaitAsync(RunDirectory.Limit));
        Assert.Contains("rank 1", e.Message);
        Assert.Equal(3, await dying.WaitAsync(RunDirectory.Limit));
        await healthy.WaitAsync(RunDirectory.Limit); // it learns that the analytics is gone, and ends
        Assert.Equal([0L], ran); // the complete timestep ran before the error
        RunDirectory.AssertNoSharedMemory(host);
    }
}

internal static class DistributedArrayExtensions
{
    /// <summary>Reads the first block (throws once the array was released).</summary>
    public static int AsSpanOfFirstBlock(this DistributedArray a) => a.Blocks[0].AsSpan<int>()[0];
}
