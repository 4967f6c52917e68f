using Deisa.Engine.Messages;
using Deisa.Model;

namespace Deisa.Engine.Head;

/// <summary>What the head knows of one array at one timestep.</summary>
internal sealed class ArrayAtTimestep(ArrayLayout layout)
{
    public ArrayLayout Layout { get; } = layout;
    public DType DType = layout.DType;
    public int DTypeRank = -1;
    public readonly Dictionary<int, BlockArrived> Blocks = new();
    /// <summary>Ranks whose send of this array at this timestep was called (committed or not).</summary>
    public readonly HashSet<int> Announced = new();
    public bool Complete => Blocks.Count == Layout.BlockCount;
    /// <summary>A send was called but its block is not committed yet (it is being written).</summary>
    public bool InFlight => Announced.Count > Blocks.Count;
    public bool Pushed;
}

/// <summary>What the head knows of one timestep, from the first announcement to the end of its callbacks.</summary>
internal sealed class TimestepState(long t)
{
    public long T { get; } = t;
    public readonly SortedDictionary<string, ArrayAtTimestep> Arrays = new(StringComparer.Ordinal);
    public readonly List<TaskCompletionSource<bool>> AdmissionWaiters = new();
    /// <summary>Admitted: counts against max_simulation_ahead until its callbacks finished.</summary>
    public bool Pending;
    public bool PendingDone;
    public int NextCallback;
    public bool AnyFired;
    public bool DoneAnnounced;
    public bool FinishedByAnalytics;
}
