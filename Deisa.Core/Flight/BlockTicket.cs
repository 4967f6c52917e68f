using System.Text.Json;
using System.Text.Json.Serialization;
using Deisa.Engine.Head;
using Deisa.Engine.Messages;
using Deisa.Model;

namespace Deisa.Flight;

/// <summary>
/// A Flight ticket: some blocks of an array at a timestep, all held by one node, described in
/// full (the array's layout, each block's place, and the lease it is read under), so that the
/// endpoint of the node that holds them streams them without asking the analytics. A ticket
/// whose blocks were let go reads as "not held any more": leases are never reused.
/// </summary>
internal sealed record BlockTicket(string Array, long Timestep, DType DType, long[] GlobalShape, long[][] Chunks, int BlockCount, TicketBlock[] Blocks)
{
    /// <summary>Blocks <paramref name="blocks"/> of <paramref name="array"/>.</summary>
    public static BlockTicket Of(LiveArray array, IEnumerable<int> blocks)
    {
        var starts = Shape.Starts(array.Chunks);
        return new(array.Name, array.Timestep, array.DType, array.GlobalShape, array.Chunks, array.Blocks.Count,
            blocks.Select(k => TicketBlock.Of(array, k, starts)).ToArray());
    }

    /// <summary>The ticket's bytes.</summary>
    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, FlightJson.Default.BlockTicket);

    /// <summary>A ticket read back; null when it is not one.</summary>
    public static BlockTicket? Parse(ReadOnlySpan<byte> bytes)
    {
        try { return JsonSerializer.Deserialize(bytes, FlightJson.Default.BlockTicket); }
        catch (JsonException) { return null; }
    }
}

/// <summary>A block of a ticket: where it lies, the lease it is read under, its size.</summary>
internal sealed record TicketBlock(BlockPlacement Place, long Lease, long NBytes)
{
    /// <summary>Block <paramref name="k"/> of <paramref name="array"/>, whose grid lines start at <paramref name="starts"/> (<see cref="Shape.Starts"/>).</summary>
    public static TicketBlock Of(LiveArray array, int k, long[][] starts)
    {
        var b = array.Blocks[k];
        var offset = b.Position.Select((p, d) => starts[d][p]).ToArray(); // the block's first element
        return new TicketBlock(new BlockPlacement(k, b.Position, offset, b.Shape, b.Order == MemoryOrder.Fortran ? "F" : "C", b.Rank),
            b.Location.Lease, b.Location.NBytes);
    }

    /// <summary>The node whose shared memory holds the block.</summary>
    [JsonIgnore]
    public int Node => Leases.NodeOf(Lease);
}

/// <summary>A batch's application metadata: which block it is, where it lies in the array (its
/// position in the grid of blocks, and the index of its first element), its shape and order, and its rank.</summary>
internal sealed record BlockPlacement(int Block, long[] Position, long[] Offset, long[] Shape, string Order, int Rank)
{
    /// <summary>As JSON, the batch's application metadata.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, FlightJson.Default.BlockPlacement);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, UseStringEnumConverter = false)]
[JsonSerializable(typeof(BlockPlacement))]
[JsonSerializable(typeof(BlockTicket))]
internal sealed partial class FlightJson : JsonSerializerContext;
