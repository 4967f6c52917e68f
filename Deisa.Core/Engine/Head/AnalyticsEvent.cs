using Deisa.Engine.Messages;
using Deisa.Model;

namespace Deisa.Engine.Head;

/// <summary>What the head tells the analytics, in the order it must act on it.</summary>
public abstract record AnalyticsEvent;

/// <summary>One block of an assembled array, living in shared memory.</summary>
/// <param name="Position">Position in the block grid.</param>
/// <param name="Shape">Shape of the block.</param>
/// <param name="Order">Memory order of the block.</param>
/// <param name="Location">Where it lies (its lease: release it when no view of the block is alive).</param>
/// <param name="Rank">Rank that sent it.</param>
public sealed record BlockView(long[] Position, long[] Shape, MemoryOrder Order, BlockLocation Location, int Rank)
{
    /// <summary>The block's lease on its node.</summary>
    public long Lease => Location.Lease;

    /// <summary>Size in bytes.</summary>
    public long NBytes => Location.NBytes;
}

/// <summary>Array <paramref name="Name"/> is complete at timestep <paramref name="Timestep"/>;
/// the analytics now holds one lease on each block.</summary>
public sealed record ArrayReady(string Name, long Timestep, DType DType, long[] GlobalShape, long[][] Chunks, IReadOnlyList<BlockView> Blocks) : AnalyticsEvent;

/// <summary>Run callback <paramref name="CallbackId"/> for <paramref name="Timestep"/> with these
/// windows (timesteps per input array, oldest first; the arrays in the order the callback
/// lists its inputs).</summary>
public sealed record CallbackDue(int CallbackId, long Timestep, IReadOnlyDictionary<string, long[]> Windows) : AnalyticsEvent;

/// <summary>No window needs (array, timestep) any more: drop it (its blocks go when its views go).</summary>
public sealed record ArrayDropped(string Name, long Timestep) : AnalyticsEvent;

/// <summary>Every callback due at <paramref name="Timestep"/> was announced; report
/// <c>FinishTimestep</c> once they ran.</summary>
public sealed record TimestepDone(long Timestep) : AnalyticsEvent;

/// <summary>The run cannot go on (layout error, ordering violation, lost rank).</summary>
public sealed record RunFailed(DeisaStatus Status, string Message) : AnalyticsEvent;

/// <summary>Every bridge closed and every timestep was processed.</summary>
public sealed record RunEnded : AnalyticsEvent;
