using Deisa.Model;
namespace Deisa.Engine.Node;

/// <summary>What a bridge asks of its node actor before writing a block.</summary>
public sealed record RentRequest(int Rank, string Array, long Timestep, DType DType, long[] Shape, MemoryOrder Order, long NBytes);
