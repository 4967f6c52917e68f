using Deisa.Scheduling;

namespace Deisa.Core.Tests;

/// <summary>
/// The graph partitioner (Scheduling/GraphPartitioner): pinned tasks run on their block's node,
/// greedy follows input bytes (not the count of inputs), random spreads and is seeded, any
/// numbering of the tasks works, and cycles and bad input are errors naming what is wrong.
/// </summary>
public class GraphPartitionerTests
{
    /// <summary>A graph built task by task: Add returns the new task's index.</summary>
    private sealed class Builder
    {
        private readonly List<int> _start = [0], _deps = [], _pinned = [];
        private readonly List<long> _bytes = [];

        public int Add(int pinned, long bytes, params int[] deps)
        {
            _deps.AddRange(deps);
            _start.Add(_deps.Count);
            _pinned.Add(pinned);
            _bytes.Add(bytes);
            return _pinned.Count - 1;
        }

        public int[] Start => [.. _start];
        public int[] Deps => [.. _deps];
        public int[] Pinned => [.. _pinned];
        public long[] Bytes => [.. _bytes];
        public int Count => _pinned.Count;

        public int[] Place(int nodes, PartitionMode mode = PartitionMode.Greedy, ulong seed = 0) =>
            GraphPartitioner.Partition(new TaskGraph(Start, Deps, Pinned, Bytes), nodes, mode, seed);
    }

    private static DeisaException Fails(int[] start, int[] deps, int[] pinned, long[] bytes, int nodes = 2, PartitionMode mode = PartitionMode.Greedy)
    {
        var e = Assert.Throws<DeisaException>(() => GraphPartitioner.Partition(new TaskGraph(start, deps, pinned, bytes), nodes, mode));
        Assert.Equal(DeisaStatus.Value, e.Status);
        return e;
    }

    [Theory]
    [InlineData(PartitionMode.Greedy)]
    [InlineData(PartitionMode.Random)]
    public void PinnedTasksRunOnTheirBlocksNode(PartitionMode mode)
    {
        var g = new Builder();
        var reads = Enumerable.Range(0, 12).Select(i => g.Add(i % 3, 1000)).ToArray();
        var sum = g.Add(-1, 8, reads);
        // A task that reads a block pins even where all its inputs are elsewhere.
        var pinnedAgainstInputs = g.Add(2, 10, reads[0], reads[3], sum);
        var node = g.Place(3, mode, seed: 7);
        for (int i = 0; i < reads.Length; i++) Assert.Equal(i % 3, node[reads[i]]);
        Assert.Equal(2, node[pinnedAgainstInputs]);
        Assert.InRange(node[sum], 0, 2);
    }

    [Fact]
    public void GreedyFollowsBytesNotTheNumberOfInputs()
    {
        var g = new Builder();
        var big = g.Add(0, 1_000_000);
        var small = Enumerable.Range(0, 5).Select(_ => g.Add(1, 1000)).ToArray();
        var combine = g.Add(-1, 0, [big, .. small]);
        // The seed's greedy counts inputs (five on node 1); bytes say node 0.
        Assert.Equal(0, g.Place(2)[combine]);

        var h = new Builder();
        var a = h.Add(0, 1000);
        var b = h.Add(1, 1000);
        var c = h.Add(1, 1);
        var d = h.Add(-1, 0, a, b, c);
        Assert.Equal(1, h.Place(2)[d]); // 1001 bytes on node 1, 1000 on node 0
    }

    [Fact]
    public void EstimatesFlowThroughTasksWithoutBytes()
    {
        var g = new Builder();
        var read0 = g.Add(0, 1_000_000);
        var x = g.Add(-1, 0, read0);      // elementwise: as large as its input
        var y = g.Add(-1, 0, x);
        var read1 = g.Add(1, 1000);
        var z = g.Add(-1, 0, read1);
        var w = g.Add(-1, 0, y, z);       // 1 MB from node 0's chain, 1 kB from node 1's
        var tiny = g.Add(-1, 10, read1);  // given bytes win over the estimate
        var v = g.Add(-1, 0, tiny, z);
        var node = g.Place(2);
        Assert.Equal(new[] { 0, 0, 0, 1, 1, 0, 1, 1 }, node);
        Assert.Equal(0, node[w]);
        Assert.Equal(1, node[v]);
    }

    [Fact]
    public void GreedyTiesGoToTheNodeWithFewestTasksThenTheLowestIndex()
    {
        var g = new Builder();
        var a0 = g.Add(0, 100);
        var a1 = g.Add(0, 100);
        var b = g.Add(1, 100);
        var c = g.Add(2, 100);
        var tie = g.Add(-1, 0, a0, b, c);       // 100 bytes on each of 0 (2 tasks), 1 and 2 (1 task each)
        var node = g.Place(3);
        Assert.Equal(1, node[tie]);              // 1 and 2 are as loaded: the lower index
        Assert.Equal(0, node[a1]);

        // No inputs at all: the least loaded node, spreading sources over the nodes.
        var s = new Builder();
        for (int i = 0; i < 8; i++) s.Add(-1, 100);
        Assert.Equal(new[] { 0, 1, 2, 3, 0, 1, 2, 3 }, s.Place(4));
    }

    [Fact]
    public void RandomSpreadsUniformlyAndIsSeeded()
    {
        const int n = 200_000, nodes = 4;
        var start = new int[n + 1];
        var pinned = new int[n];
        Array.Fill(pinned, -1);
        for (int t = 0; t < n; t += 100) pinned[t] = 3;
        var graph = new TaskGraph(start, [], pinned, new long[n]);
        var first = GraphPartitioner.Partition(graph, nodes, PartitionMode.Random, 42);
        var again = GraphPartitioner.Partition(graph, nodes, PartitionMode.Random, 42);
        var other = GraphPartitioner.Partition(graph, nodes, PartitionMode.Random, 43);
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        var counts = new int[nodes];
        int unpinned = 0;
        for (int t = 0; t < n; t++)
        {
            if (pinned[t] >= 0) { Assert.Equal(3, first[t]); continue; }
            counts[first[t]]++;
            unpinned++;
        }
        // Each node gets a quarter of the unpinned tasks, within 1 % (about 9 standard deviations).
        foreach (var c in counts) Assert.InRange(c, unpinned / 4 - unpinned / 100, unpinned / 4 + unpinned / 100);
        // Greedy would put them all by load, in turn: random differs from it.
        Assert.NotEqual(GraphPartitioner.Partition(graph, nodes, PartitionMode.Greedy), first);
    }

    [Fact]
    public void TheSeededGeneratorIsUniformOverSmallAndOddBounds()
    {
        var r = new SeededRandom(1);
        var counts = new int[3];
        for (int i = 0; i < 30_000; i++) counts[r.NextBelow(3)]++;
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
        Assert.Equal(0, new SeededRandom(5).NextBelow(1));
        var a = new SeededRandom(9);
        var b = new SeededRandom(9);
        Assert.Equal(a.Next(), b.Next());
    }

    /// <summary>The same graph numbered in another order gets the same placement (no tie in this
    /// graph depends on which task is placed first): reversed (every task after its dependents,
    /// as Dask lists them), nearly reversed, or shuffled; and the order computed for it puts
    /// every task after its dependencies.</summary>
    [Theory]
    [InlineData("reversed")]
    [InlineData("shuffled")]
    [InlineData("mostly reversed")]
    public void TasksMayComeInAnyOrder(string numbering)
    {
        var g = ReductionGraph(blocks: 64, nodes: 4, fanIn: 4);
        var expected = g.Place(4);
        int n = g.Count;
        var perm = Enumerable.Range(0, n).Reverse().ToArray(); // perm[new index] = old index
        if (numbering == "shuffled") new Random(3).Shuffle(perm);
        if (numbering == "mostly reversed") (perm[0], perm[n - 1]) = (perm[n - 1], perm[0]);
        var inverse = new int[n];
        for (int i = 0; i < n; i++) inverse[perm[i]] = i;      // old index -> new index
        var start = new List<int> { 0 };
        var deps = new List<int>();
        var pinned = new int[n];
        var bytes = new long[n];
        for (int i = 0; i < n; i++)
        {
            int old = perm[i];
            for (int j = g.Start[old]; j < g.Start[old + 1]; j++) deps.Add(inverse[g.Deps[j]]);
            start.Add(deps.Count);
            pinned[i] = g.Pinned[old];
            bytes[i] = g.Bytes[old];
        }
        var node = GraphPartitioner.Partition(new TaskGraph([.. start], [.. deps], pinned, bytes), 4, PartitionMode.Greedy);
        for (int i = 0; i < n; i++) Assert.Equal(expected[perm[i]], node[i]);

        var order = new int[n];
        var graph = new TaskGraph([.. start], [.. deps], pinned, bytes);
        TopologicalOrder.Compute(graph, order);
        var position = new int[n];
        for (int i = 0; i < n; i++) position[order[i]] = i;
        for (int t = 0; t < n; t++)
            for (int j = start[t]; j < start[t + 1]; j++) Assert.True(position[deps[j]] < position[t], $"task {t} before its dependency {deps[j]}");
    }

    [Fact]
    public void ACycleIsAnErrorNamingATaskOnIt()
    {
        // 0 <- 1 <- 2 <- 3 <- 1: tasks 1, 2, 3 form a cycle; 4 depends on it.
        var e = Fails([0, 0, 2, 3, 4, 5], [0, 3, 1, 2, 3], [-1, -1, -1, -1, -1], new long[5]);
        Assert.Contains("cycle", e.Message);
        Assert.Matches(@"through task [123]\b", e.Message);
        Assert.Contains("1 -> 3 -> 2 -> 1", e.Message);

        var self = Fails([0, 0, 1], [1], [-1, -1], new long[2]);
        Assert.Contains("task 1 depends on itself", self.Message);

        // A long cycle is shortened in the message.
        int n = 100;
        var start = Enumerable.Range(0, n + 1).ToArray();
        var deps = Enumerable.Range(0, n).Select(t => (t + 1) % n).ToArray();
        var pinned = Enumerable.Repeat(-1, n).ToArray();
        var longCycle = Fails(start, deps, pinned, new long[n], mode: PartitionMode.Random);
        Assert.Contains("more)", longCycle.Message);
        Assert.True(longCycle.Message.Length < 300, longCycle.Message);
    }

    [Fact]
    public void NothingIsWrittenWhenTheCallFails()
    {
        var node = new int[] { 7, 7, 7 };
        Assert.Throws<DeisaException>(() =>
            GraphPartitioner.Partition(new TaskGraph([0, 1, 2, 3], [2, 0, 1], [0, -1, -1], new long[3]), 2, PartitionMode.Greedy, 0, node));
        Assert.Equal(new[] { 7, 7, 7 }, node);
    }

    public static TheoryData<string, int[], int[], int[], long[], int, int, string> BadInputs() => new()
    {
        { "start too short", [0, 1], [], [-1, -1], [0, 0], 2, 0, "dep_start has 2 entries; 2 tasks need 3" },
        { "start not from 0", [1, 1, 1], [0], [-1, -1], [0, 0], 2, 0, "dep_start[0] must be 0 (got 1)" },
        { "start decreases", [0, 2, 1, 2], [1, 2], [-1, -1, -1], [0, 0, 0], 2, 0, "dep_start decreases at task 1" },
        { "start beyond deps", [0, 0, 3], [0], [-1, -1], [0, 0], 2, 0, "dep_start[2] = 3 but deps has 1 entries" },
        { "dependency out of range", [0, 0, 1], [2], [-1, -1], [0, 0], 2, 0, "task 1 depends on task 2 (deps[0]), which is not a task index 0 to 1" },
        { "negative dependency", [0, 0, 1], [-1], [-1, -1], [0, 0], 2, 0, "task 1 depends on task -1" },
        { "nbytes length", [0, 0, 0], [], [-1, -1], [0], 2, 0, "nbytes has 1 entries, pinned has 2" },
        { "negative bytes", [0, 0, 0], [], [-1, -1], [0, -5], 2, 0, "nbytes[1] is negative (-5)" },
        { "pinned below -1", [0, 0, 0], [], [-1, -2], [0, 0], 2, 0, "pinned[1] is -2" },
        { "pinned beyond the nodes", [0, 0, 0], [], [2, -1], [0, 0], 2, 0, "pinned[0] is node 2, but there are 2 nodes (0 to 1)" },
        { "no node", [0, 0, 0], [], [-1, -1], [0, 0], 0, 0, "n_nodes must be at least 1 (got 0)" },
        { "unknown mode", [0, 0, 0], [], [-1, -1], [0, 0], 2, 5, "mode must be greedy (0) or random (1) (got 5)" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInputIsAnErrorNamingWhatIsWrong(string what, int[] start, int[] deps, int[] pinned, long[] bytes, int nodes, int mode, string message)
    {
        var e = Fails(start, deps, pinned, bytes, nodes, (PartitionMode)mode);
        Assert.True(e.Message.Contains(message), $"{what}: {e.Message}");
    }

    [Fact]
    public void AnOutputOfTheWrongLengthIsAnError()
    {
        var e = Assert.Throws<DeisaException>(() =>
            GraphPartitioner.Partition(new TaskGraph([0, 0], [], [-1], [0]), 1, PartitionMode.Greedy, 0, new int[2]));
        Assert.Contains("the output has 2 entries; the graph has 1 tasks", e.Message);
    }

    [Fact]
    public void AnEmptyGraphHasNothingToPlace() =>
        Assert.Empty(GraphPartitioner.Partition(new TaskGraph([0], [], [], []), 1, PartitionMode.Random));

    /// <summary>
    /// Fused tasks as Dask's optimisation makes them: a block read fused with elementwise work
    /// into one task (pinned, with the block's bytes), then chains of unpinned tasks, then a
    /// combine over several chains. Each chain stays on its block's node; the combine goes
    /// where the bytes of its inputs are.
    /// </summary>
    [Fact]
    public void FusedChainsStayWithTheirBlocks()
    {
        var g = new Builder();
        var heads = new[] { g.Add(0, 4000), g.Add(1, 4000), g.Add(1, 4000), g.Add(2, 8000) };
        var chains = new List<int>[heads.Length];
        for (int c = 0; c < heads.Length; c++)
        {
            chains[c] = [heads[c]];
            for (int k = 0; k < 5; k++) chains[c].Add(g.Add(-1, 0, chains[c][^1])); // fused elementwise steps, no bytes given
        }
        var combine = g.Add(-1, 0, [.. chains.Select(c => c[^1])]);
        var node = g.Place(3);
        foreach (var chain in chains) Assert.All(chain, t => Assert.Equal(node[chain[0]], node[t]));
        Assert.Equal(new[] { 0, 1, 1, 2 }, heads.Select(h => node[h]));
        // 8000 bytes on node 1 (two chains), 8000 on node 2 (one chain), 4000 on node 0: a tie
        // between 1 and 2, broken by the fewer tasks (node 2 has 6, node 1 has 12).
        Assert.Equal(2, node[combine]);
    }

    /// <summary>An array reduction: blocks read on the nodes that hold them (pinned, spread
    /// over the nodes), one elementwise task per block, a tree of combines of fanIn inputs.</summary>
    private static Builder ReductionGraph(int blocks, int nodes, int fanIn)
    {
        var g = new Builder();
        var level = new List<int>();
        for (int b = 0; b < blocks; b++)
        {
            int read = g.Add(b * nodes / blocks, 1 << 20);
            level.Add(g.Add(-1, 0, read));
        }
        while (level.Count > 1)
        {
            var next = new List<int>();
            for (int i = 0; i < level.Count; i += fanIn)
                next.Add(g.Add(-1, 8, [.. level.GetRange(i, Math.Min(fanIn, level.Count - i))]));
            level = next;
        }
        return g;
    }

    [Fact]
    public void ALargeReductionIsPlacedSensibly()
    {
        const int blocks = 250_000, nodes = 4; // 500k block tasks and 83k combines
        var g = ReductionGraph(blocks, nodes, fanIn: 4);
        var start = g.Start;
        var deps = g.Deps;
        var pinned = g.Pinned;
        var node = g.Place(nodes);
        var perNode = new int[nodes];
        for (int t = 0; t < g.Count; t++)
        {
            perNode[node[t]]++;
            if (pinned[t] >= 0) Assert.Equal(pinned[t], node[t]);
            int s = start[t], e = start[t + 1];
            if (e - s == 1) Assert.Equal(node[deps[s]], node[t]);          // elementwise: with its block
            if (e - s > 1)
            {
                bool onAnInput = false;
                for (int j = s; j < e; j++) onAnInput |= node[deps[j]] == node[t];
                Assert.True(onAnInput, $"combine {t} is on node {node[t]}, where none of its inputs is");
            }
        }
        // Blocks are spread evenly, and so is the work.
        Assert.All(perNode, c => Assert.InRange(c, g.Count / nodes - g.Count / 50, g.Count / nodes + g.Count / 50));
        Assert.Equal(node, g.Place(nodes)); // deterministic
    }
}
