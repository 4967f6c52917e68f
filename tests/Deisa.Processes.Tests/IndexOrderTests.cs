using Deisa.Analytics;
using Deisa.Model;
namespace Deisa.Processes.Tests;

/// <summary>
/// Fortran- and C-ordered non-square blocks sent by separate rank processes through every send
/// path (span, C tensor, Fortran tensor, zero-copy buffer) reach the analytics with the
/// simulation's index order.
/// </summary>
public sealed class IndexOrderTests
{
    /// <summary>Element (i, j) of the global array at timestep t, as TestSimulation writes it.</summary>
    private static int V(long t, long i, long j) => (int)(t * 1_000_000 + i * 1000 + j);

    [Fact]
    public async Task Fortran_blocks_are_strided_views_with_the_simulations_index_order()
    {
        const int rows = 3, cols = 5, steps = 3;
        using var dir = new RunDirectory();
        await using var host = dir.Host();
        var checkedBlocks = new List<string>();
        host.Register(inputs =>
        {
            foreach (var window in inputs)
            {
                var a = window.Newest;
                var fortran = window.Name == "fortran";
                Assert.Equal([2L * rows, 2L * cols], a.GlobalShape);
                foreach (var b in a.Blocks)
                {
                    Assert.Equal(fortran ? MemoryOrder.Fortran : MemoryOrder.C, b.Order);
                    Assert.Equal([rows * b.Position[0], cols * b.Position[1]], b.Offset);
                    Assert.Equal(b.Position[0] * 2 + b.Position[1], b.Rank);
                    var view = b.AsTensorSpan<int>();
                    Assert.Equal([rows, cols], view.Lengths.ToArray());
                    Assert.Equal(fortran ? [1, rows] : new nint[] { cols, 1 }, view.Strides.ToArray());
                    for (int i = 0; i < rows; i++)
                        for (int j = 0; j < cols; j++)
                            Assert.Equal(V(a.Timestep, b.Offset[0] + i, b.Offset[1] + j), view[i, j]);
                    // In memory, a Fortran block's first index varies fastest.
                    var memory = b.AsSpan<int>();
                    Assert.Equal(V(a.Timestep, b.Offset[0] + 1, b.Offset[1]), fortran ? memory[1] : memory[cols]);
                    checkedBlocks.Add($"{window.Name}@{a.Timestep} rank {b.Rank}");
                }
                var all = a.ToArray<int>();
                for (int i = 0; i < 2 * rows; i++)
                    for (int j = 0; j < 2 * cols; j++)
                    {
                        Assert.Equal(V(a.Timestep, i, j), all[i * 2 * cols + j]);
                        Assert.Equal(V(a.Timestep, i, j), a.GetValue<int>(i, j));
                    }
                long expected = 0;
                for (int i = 0; i < 2 * rows; i++) for (int j = 0; j < 2 * cols; j++) expected += V(a.Timestep, i, j);
                Assert.Equal(expected, a.Sum<int>());
                Assert.Equal(V(a.Timestep, 0, 0), a.Min<int>());
                Assert.Equal(V(a.Timestep, 2 * rows - 1, 2 * cols - 1), a.Max<int>());
            }
        }, CallbackOptions.FailFast, new WindowSpec("fortran"), new WindowSpec("c"));

        var run = host.RunAsync();
        var ranks = dir.Ranks(Programs.TestSimulation, 4, "--steps", $"{steps}", "--rows", $"{rows}", "--cols", $"{cols}", "--arrays", "fortran,c");
        await run.WaitAsync(RunDirectory.Limit);
        foreach (var r in ranks) await r.SucceedsAsync(RunDirectory.Limit);

        Assert.Equal(2 * 4 * steps, checkedBlocks.Count);
        RunDirectory.AssertNoSharedMemory(host);
    }
}
