namespace Deisa.NodeActor;

/// <summary>A slot handed to a bridge, with the segments it should unmap.</summary>
public sealed record RentedSlot(SharedMemory.Slot Slot, IReadOnlyList<string>? Retired, long RetiredSeq);
