using Deisa.Model;

namespace Deisa.Scheduling;

/// <summary>
/// A task graph in compact form, as the partitioner reads it: tasks are numbered 0 to n-1 in
/// any order; task i depends on tasks <c>Dependencies[DependencyStart[i] .. DependencyStart[i+1]]</c>
/// (compressed sparse rows); <see cref="Pinned"/> gives the node of the block a task reads (-1:
/// none) and <see cref="Bytes"/> the estimated bytes of its output (0: estimate it from its
/// inputs). The constructor checks the form (lengths, indices, signs) and copies nothing: the
/// spans are the caller's memory. Cycles longer than a task depending on itself, and nodes out
/// of range, are the partitioner's checks, since they need the order of the tasks and the number
/// of nodes.
/// </summary>
public readonly ref struct TaskGraph
{
    /// <summary>Checks and wraps a graph in compact form.</summary>
    /// <param name="dependencyStart">n+1 offsets into <paramref name="dependencies"/>: starts at 0,
    /// never decreases, ends at the length of <paramref name="dependencies"/>.</param>
    /// <param name="dependencies">The tasks each task depends on, each an index 0 to n-1; a task
    /// listed twice counts twice.</param>
    /// <param name="pinned">Per task, the node that holds a block the task reads, or -1.</param>
    /// <param name="bytes">Per task, its output's estimated bytes (at least 0; 0 = estimate).</param>
    /// <exception cref="DeisaException">A length, offset, index or byte count is wrong
    /// (<see cref="DeisaStatus.Value"/>, naming it).</exception>
    public TaskGraph(ReadOnlySpan<int> dependencyStart, ReadOnlySpan<int> dependencies, ReadOnlySpan<int> pinned, ReadOnlySpan<long> bytes)
    {
        int n = pinned.Length;
        if (bytes.Length != n)
            throw DeisaException.Value($"nbytes has {bytes.Length} entries, pinned has {n}: both need one per task");
        if (dependencyStart.Length != n + 1)
            throw DeisaException.Value($"dep_start has {dependencyStart.Length} entries; {n} tasks need {n + 1}");
        if (dependencyStart[0] != 0)
            throw DeisaException.Value($"dep_start[0] must be 0 (got {dependencyStart[0]})");
        if (dependencyStart[n] != dependencies.Length)
            throw DeisaException.Value($"dep_start[{n}] = {dependencyStart[n]} but deps has {dependencies.Length} entries");
        // One pass over the tasks checks everything and counts which way dependencies point
        // (the topological order starts from that side).
        int later = 0, maxPinned = -1;
        int nDeps = dependencies.Length;
        unsafe
        {
            fixed (int* start = dependencyStart, deps = dependencies, pin = pinned)
            fixed (long* size = bytes)
            {
                for (int i = 0; i < n; i++)
                {
                    int s = start[i], e = start[i + 1];
                    if (e < s)
                        throw DeisaException.Value($"dep_start decreases at task {i}: dep_start[{i}] = {s}, dep_start[{i + 1}] = {e}");
                    if ((uint)e > (uint)nDeps)
                        throw DeisaException.Value($"dep_start[{i + 1}] = {e} is beyond the {nDeps} entries of deps");
                    for (int j = s; j < e; j++)
                    {
                        int d = deps[j];
                        if ((uint)d >= (uint)n)
                            throw DeisaException.Value($"task {i} depends on task {d} (deps[{j}]), which is not a task index 0 to {n - 1}");
                        if (d > i) later++;
                        else if (d == i) throw DeisaException.Value($"the task graph has a cycle: task {i} depends on itself");
                    }
                    if (size[i] < 0) throw DeisaException.Value($"nbytes[{i}] is negative ({size[i]})");
                    int p = pin[i];
                    if (p < -1) throw DeisaException.Value($"pinned[{i}] is {p}: a node index or -1 (not pinned)");
                    if (p > maxPinned) maxPinned = p;
                }
            }
        }
        DependencyStart = dependencyStart;
        Dependencies = dependencies;
        Pinned = pinned;
        Bytes = bytes;
        LaterDependencies = later;
        MaxPinned = maxPinned;
    }

    /// <summary>The number of tasks.</summary>
    public int TaskCount => Pinned.Length;

    /// <summary>n+1 offsets: task i's dependencies are <c>Dependencies[DependencyStart[i] .. DependencyStart[i+1]]</c>.</summary>
    public ReadOnlySpan<int> DependencyStart { get; }

    /// <summary>The dependencies of every task, one after the other.</summary>
    public ReadOnlySpan<int> Dependencies { get; }

    /// <summary>Per task, the node of the block it reads, or -1.</summary>
    public ReadOnlySpan<int> Pinned { get; }

    /// <summary>Per task, the estimated bytes of its output (0: the largest estimate of its inputs).</summary>
    public ReadOnlySpan<long> Bytes { get; }

    /// <summary>How many dependencies are on a task numbered after the task that depends on it
    /// (0: the numbering is already an order of dependencies first; all of them: the reverse
    /// numbering is, as in Dask's optimised graphs, which list results first).</summary>
    public int LaterDependencies { get; }

    /// <summary>The highest node a task is pinned to (-1: none is).</summary>
    public int MaxPinned { get; }
}
