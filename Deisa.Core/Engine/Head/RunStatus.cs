using Deisa.Model;
namespace Deisa.Engine.Head;

/// <summary>A snapshot of the run for <c>deisa status</c>.</summary>
public sealed record RunStatus(
    int? WorldSize,
    IReadOnlyList<int> ConnectedRanks,
    IReadOnlyList<int> ClosedRanks,
    IReadOnlyList<int> LostRanks,
    IReadOnlyList<ArrayStatus> Arrays,
    long? LastProcessed,
    int PendingTimesteps,
    int MaxSimulationAhead);

/// <summary>One array's layout and progress.</summary>
public sealed record ArrayStatus(string Name, long[] GlobalShape, long[][] Chunks, string DType, long? LastReceived);
