namespace Deisa.Scheduling;

/// <summary>
/// How the partitioner places a task that reads no block (<c>deisa_partitioning</c> in deisa.h;
/// Python's <c>deisa_partitioning="greedy"|"random"</c>). A task that reads a block always runs
/// on the node that holds the block, whatever the mode.
/// </summary>
public enum PartitionMode
{
    /// <summary>On the node that holds most bytes of the task's inputs (ties: the node with the
    /// fewest tasks so far, then the lowest index).</summary>
    Greedy = 0,
    /// <summary>On a node drawn uniformly at random from a seed.</summary>
    Random = 1,
}
