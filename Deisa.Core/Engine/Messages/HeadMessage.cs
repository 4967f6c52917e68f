using Deisa.Model;

namespace Deisa.Engine.Messages;

/// <summary>
/// What a node tells the head. Messages hold plain data only (numbers, text, arrays and records
/// of them), so that the node and the head may live in different processes; a test checks it.
/// </summary>
public abstract record HeadMessage;

/// <summary>A rank committed its block of (<paramref name="Array"/>, <paramref name="Timestep"/>)
/// into the node's shared memory; its lease belongs to the head from now on.</summary>
public sealed record BlockArrived(int Rank, string Array, long Timestep, DType DType, long[] Shape, MemoryOrder Order,
    BlockLocation Location) : HeadMessage;

/// <summary>A rank gave up writing a block it had a slot for (abandoned, or the rank was lost):
/// it may send it again, and its timestep may close without it.</summary>
public sealed record BlockAbandoned(int Rank, string Array, long Timestep) : HeadMessage;
