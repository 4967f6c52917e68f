using System.Diagnostics;
using System.Runtime.InteropServices;
using Deisa.Model;
using Deisa.Scheduling;

namespace Deisa.Native.Exports;

/// <summary>
/// Task graph partitioning for the analytics (see deisa_graph_partition in include/deisa.h):
/// the graph comes as C arrays and is read in place, without a copy.
/// </summary>
internal static unsafe class GraphExports
{
    [UnmanagedCallersOnly(EntryPoint = "deisa_graph_partition")]
    public static int Partition(long nTasks, int* depStart, int* deps, int* pinned, long* nbytes, int nNodes, int mode,
                                long seed, int* nodeOut, double* elapsedMs) =>
        NativeCall.Run(() =>
        {
            long started = Stopwatch.GetTimestamp();
            if (nTasks < 0 || nTasks >= Array.MaxLength)
                throw new DeisaException(DeisaStatus.Value, $"n_tasks must be 0 to {Array.MaxLength - 1} (got {nTasks})");
            int n = (int)nTasks;
            Required(depStart, "dep_start");
            if (n > 0)
            {
                Required(pinned, "pinned");
                Required(nbytes, "nbytes");
                Required(nodeOut, "node_out");
            }
            int nDeps = depStart[n];
            if (nDeps < 0) throw new DeisaException(DeisaStatus.Value, $"dep_start[{n}] (the number of dependencies) is negative ({nDeps})");
            if (nDeps > 0) Required(deps, "deps");
            var graph = new TaskGraph(new ReadOnlySpan<int>(depStart, n + 1), new ReadOnlySpan<int>(deps, nDeps),
                                      new ReadOnlySpan<int>(pinned, n), new ReadOnlySpan<long>(nbytes, n));
            GraphPartitioner.Partition(graph, nNodes, (PartitionMode)mode, unchecked((ulong)seed), new Span<int>(nodeOut, n));
            if (elapsedMs != null) *elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        });

    private static void Required(void* p, string what)
    {
        if (p == null) throw new DeisaException(DeisaStatus.InvalidHandle, $"{what} is NULL");
    }
}
