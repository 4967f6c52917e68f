namespace Deisa.NodeActor;

/// <summary>What a bridge asks of its node actor before writing a block.</summary>
public sealed record RentRequest(int Rank, string Array, long Timestep, Arrays.DType DType, long[] Shape, Arrays.MemoryOrder Order, long NBytes);
