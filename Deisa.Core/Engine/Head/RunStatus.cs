using System.Text.Json.Serialization;
using Deisa.Engine.Messages;

namespace Deisa.Engine.Head;

/// <summary>A snapshot of the run for <c>deisa status</c>; <see cref="Pool"/> is the analytics' own node's, added by whoever asks the node; <see cref="Nodes"/> lists a cluster's node services.</summary>
public sealed record RunStatus(
    int? WorldSize,
    IReadOnlyList<int> ConnectedRanks,
    IReadOnlyList<int> ClosedRanks,
    IReadOnlyList<int> LostRanks,
    IReadOnlyList<ArrayStatus> Arrays,
    long? LastProcessed,
    int PendingTimesteps,
    int MaxSimulationAhead,
    PoolUsage? Pool = null,
    IReadOnlyList<NodeStatus>? Nodes = null);

/// <summary>One array's layout and progress.</summary>
public sealed record ArrayStatus(string Name, long[] GlobalShape, long[][] Chunks, [property: JsonPropertyName("dtype")] string DType, long? LastReceived);
