using Deisa.SharedMemory;
namespace Deisa.Engine.Node;

/// <summary>A slot handed to a bridge, with the segments it should unmap.</summary>
public sealed record RentedSlot(Slot Slot, IReadOnlyList<string>? Retired, long RetiredSeq);
