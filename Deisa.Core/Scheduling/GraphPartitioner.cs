using System.Buffers;
using Deisa.Model;

namespace Deisa.Scheduling;

/// <summary>
/// Decides on which node each task of a compute's task graph runs (docs/specification.md §5):
/// a task that reads a block runs on the node that holds the block ("pinned"); any other task
/// is placed by the <see cref="PartitionMode"/>. Linear in tasks and dependencies; allocates a
/// few arrays per call, nothing per task.
/// </summary>
public static class GraphPartitioner
{
    /// <summary>Places every task of <paramref name="graph"/> on one of <paramref name="nodeCount"/> nodes.</summary>
    /// <param name="graph">The tasks, their dependencies, pins and byte estimates.</param>
    /// <param name="nodeCount">The number of nodes, at least 1.</param>
    /// <param name="mode">How tasks that read no block are placed:
    /// <see cref="PartitionMode.Greedy"/>, on the node holding most bytes of their inputs (ties:
    /// the node with the fewest tasks so far, then the lowest index; a task without inputs goes
    /// to the node with the fewest tasks so far); <see cref="PartitionMode.Random"/>, on a node
    /// drawn uniformly from <paramref name="seed"/>.</param>
    /// <param name="seed">The random mode's seed: the same graph and seed give the same placement.</param>
    /// <param name="node">Receives each task's node (one entry per task). Nothing is written
    /// unless the call succeeds.</param>
    /// <exception cref="DeisaException">A bad node count, mode, pin or output length, or a
    /// cycle (<see cref="DeisaStatus.Value"/>, naming what is wrong).</exception>
    public static void Partition(TaskGraph graph, int nodeCount, PartitionMode mode, ulong seed, Span<int> node)
    {
        int n = graph.TaskCount;
        if (nodeCount < 1) throw DeisaException.Value($"n_nodes must be at least 1 (got {nodeCount})");
        if (mode is not (PartitionMode.Greedy or PartitionMode.Random))
            throw DeisaException.Value($"mode must be greedy ({(int)PartitionMode.Greedy}) or random ({(int)PartitionMode.Random}) (got {(int)mode})");
        if (node.Length != n) throw DeisaException.Value($"the output has {node.Length} entries; the graph has {n} tasks");
        var pinned = graph.Pinned;
        if (graph.MaxPinned >= nodeCount)
        {
            int t = 0;
            while (pinned[t] < nodeCount) t++;
            throw DeisaException.Value($"pinned[{t}] is node {pinned[t]}, but there are {nodeCount} nodes (0 to {nodeCount - 1})");
        }
        // When the numbering, or its reverse, puts every task after its dependencies (as Dask's
        // optimised graphs mostly do), the tasks are read in sequence; otherwise in an order
        // computed first, which also rejects cycles before anything is written.
        int[]? order = null;
        int later = graph.LaterDependencies;
        try
        {
            if (later != 0 && later != graph.Dependencies.Length)
            {
                order = ArrayPool<int>.Shared.Rent(n);
                TopologicalOrder.Compute(graph, order.AsSpan(0, n));
            }
            if (mode == PartitionMode.Random) Random(pinned, nodeCount, seed, node);
            else Greedy(graph, order, later == 0, nodeCount, node);
        }
        finally
        {
            if (order != null) ArrayPool<int>.Shared.Return(order);
        }
    }

    /// <summary>Places every task of <paramref name="graph"/>; the returned array holds each task's node.</summary>
    /// <inheritdoc cref="Partition(TaskGraph, int, PartitionMode, ulong, Span{int})"/>
    public static int[] Partition(TaskGraph graph, int nodeCount, PartitionMode mode, ulong seed = 0)
    {
        var node = new int[graph.TaskCount];
        Partition(graph, nodeCount, mode, seed, node);
        return node;
    }

    /// <summary>Pinned tasks on their node, every other one on a node drawn in task order.</summary>
    private static void Random(ReadOnlySpan<int> pinned, int nodeCount, ulong seed, Span<int> node)
    {
        var random = new SeededRandom(seed);
        for (int t = 0; t < pinned.Length; t++)
        {
            int p = pinned[t];
            node[t] = p >= 0 ? p : random.NextBelow(nodeCount);
        }
    }

    /// <summary>
    /// In dependency order: a pinned task on its node; a task with inputs on the node that holds
    /// most of their (estimated) bytes, ties to the node with the fewest tasks, then the lowest
    /// index; a task without inputs on the node with the fewest tasks. A task's estimate is its
    /// given bytes, or, if 0, the largest estimate of its inputs.
    /// </summary>
    /// <param name="graph">The graph.</param>
    /// <param name="order">The tasks in order; null: the numbering (<paramref name="ascending"/>) or its reverse is one.</param>
    /// <param name="ascending">With no order, whether the numbering (true) or its reverse is one.</param>
    /// <param name="nodeCount">The number of nodes.</param>
    /// <param name="node">Receives each task's node.</param>
    private static unsafe void Greedy(TaskGraph graph, int[]? order, bool ascending, int nodeCount, Span<int> node)
    {
        int n = graph.TaskCount;
        // Scratch memory comes from the shared pool: a compute every timestep reuses it instead
        // of touching fresh pages each time (on a large graph, most of the time spent here).
        var estimateArray = ArrayPool<long>.Shared.Rent(Math.Max(n, 1));
        var load = new int[nodeCount];          // tasks placed on each node so far
        var bytesOn = new long[nodeCount];      // the current task's input bytes per node
        var stamp = new int[nodeCount];         // which task bytesOn[k] is for
        var touched = new int[nodeCount];       // the nodes holding the current task's inputs
        stamp.AsSpan().Fill(-1);

        try
        {
            Place(graph, order, ascending, node, estimateArray, load, bytesOn, stamp, touched);
        }
        finally
        {
            ArrayPool<long>.Shared.Return(estimateArray);
        }
    }

    /// <summary>The loop of <see cref="Greedy"/>, on scratch arrays it is given.</summary>
    private static unsafe void Place(TaskGraph graph, int[]? order, bool ascending, Span<int> node, long[] estimateArray,
                                     int[] load, long[] bytesOn, int[] stamp, int[] touched)
    {
        int n = graph.TaskCount;
        // Indices are checked (TaskGraph, the order): the loop reads through pointers.
        fixed (int* start = graph.DependencyStart, deps = graph.Dependencies, pinned = graph.Pinned, nodeOf = node)
        fixed (long* given = graph.Bytes, estimate = estimateArray)
        fixed (int* orderOf = order)
        {
            for (int i = 0; i < n; i++)
            {
                int t = orderOf != null ? orderOf[i] : ascending ? i : n - 1 - i;
                int j = start[t], end = start[t + 1];
                long own = given[t];
                int p = pinned[t];
                int chosen;
                if (end - j == 1)
                {
                    // One input (a chain): its node, unless pinned elsewhere.
                    int d = deps[j];
                    if (own == 0) own = estimate[d];
                    chosen = p >= 0 ? p : nodeOf[d];
                }
                else if (j == end)
                {
                    chosen = p >= 0 ? p : LeastLoaded(load);
                }
                else
                {
                    long largest = 0;
                    int nTouched = 0;
                    for (; j < end; j++)
                    {
                        int d = deps[j];
                        long e = estimate[d];
                        if (e > largest) largest = e;
                        int k = nodeOf[d];
                        if (stamp[k] != t) { stamp[k] = t; bytesOn[k] = 0; touched[nTouched++] = k; }
                        long sum = bytesOn[k] + e;
                        bytesOn[k] = sum < 0 ? long.MaxValue : sum; // both are >= 0: a negative sum overflowed
                    }
                    if (own == 0) own = largest;
                    if (p >= 0) chosen = p;
                    else
                    {
                        chosen = touched[0];
                        for (int m = 1; m < nTouched; m++)
                        {
                            int k = touched[m];
                            if (bytesOn[k] > bytesOn[chosen]
                                || (bytesOn[k] == bytesOn[chosen] && (load[k] < load[chosen] || (load[k] == load[chosen] && k < chosen))))
                                chosen = k;
                        }
                    }
                }
                estimate[t] = own;
                nodeOf[t] = chosen;
                load[chosen]++;
            }
        }
    }

    /// <summary>The node with the fewest tasks; the lowest index among equals.</summary>
    private static int LeastLoaded(int[] load)
    {
        int best = 0;
        for (int k = 1; k < load.Length; k++)
        {
            if (load[k] < load[best]) best = k;
        }
        return best;
    }
}
