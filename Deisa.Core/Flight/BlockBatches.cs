using System.Globalization;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Memory;
using Apache.Arrow.Types;
using Deisa.Engine.Head;
using Deisa.Model;

namespace Deisa.Flight;

/// <summary>
/// An array's blocks as Arrow record batches: one batch per block, one column "values" holding
/// the block's elements in its memory order, over the block's shared memory (no copy). bool is
/// carried as uint8 and complex as fixed-size binary (8 or 16 bytes), the numpy dtype in the
/// schema's metadata ("dtype"), with the array's name, timestep, global shape and chunks.
/// </summary>
internal static class BlockBatches
{
    /// <summary>The Arrow type of an element of <paramref name="dtype"/>.</summary>
    public static IArrowType TypeOf(DType dtype) => dtype switch
    {
        DType.Bool or DType.UInt8 => UInt8Type.Default,
        DType.Int8 => Int8Type.Default,
        DType.Int16 => Int16Type.Default,
        DType.Int32 => Int32Type.Default,
        DType.Int64 => Int64Type.Default,
        DType.UInt16 => UInt16Type.Default,
        DType.UInt32 => UInt32Type.Default,
        DType.UInt64 => UInt64Type.Default,
        DType.Float32 => FloatType.Default,
        DType.Float64 => DoubleType.Default,
        _ => new FixedSizeBinaryType(DTypes.ItemSize(dtype)),
    };

    /// <summary>The schema of <paramref name="array"/>'s batches.</summary>
    public static Schema SchemaOf(LiveArray array) => new Schema.Builder()
        .Field(f => f.Name("values").DataType(TypeOf(array.DType)).Nullable(false))
        .Metadata("array", array.Name)
        .Metadata("timestep", array.Timestep.ToString(CultureInfo.InvariantCulture))
        .Metadata("dtype", DTypes.NumpyName(array.DType))
        .Metadata("global_shape", "[" + string.Join(",", array.GlobalShape) + "]")
        .Metadata("chunks", "[" + string.Join(",", array.Chunks.Select(c => "[" + string.Join(",", c) + "]")) + "]")
        .Metadata("blocks", array.Blocks.Count.ToString(CultureInfo.InvariantCulture))
        .Build();

    /// <summary>Block <paramref name="index"/> of <paramref name="array"/> as a batch over its bytes at <paramref name="address"/>.</summary>
    public static RecordBatch Batch(Schema schema, LiveArray array, int index, nint address, long nbytes)
    {
        int item = DTypes.ItemSize(array.DType);
        if (nbytes > int.MaxValue) throw DeisaException.Value($"block {index} of '{array.Name}' at timestep {array.Timestep} has {nbytes} bytes, more than one Arrow buffer holds");
        var values = new ArrowBuffer(new NativeMemory(address, (int)nbytes).Memory);
        var data = new ArrayData(schema.FieldsList[0].DataType, (int)(nbytes / item), 0, 0, [ArrowBuffer.Empty, values]);
        return new RecordBatch(schema, [ArrowArrayFactory.BuildArray(data)], data.Length);
    }

    /// <summary>Where block <paramref name="index"/> lies, as JSON for the batch's application metadata.</summary>
    public static string Describe(LiveArray array, int index)
    {
        var b = array.Blocks[index];
        var offset = new long[b.Position.Length]; // the block's first element: the chunks before it, per dimension
        for (int d = 0; d < offset.Length; d++)
            for (long c = 0; c < b.Position[d]; c++) offset[d] += array.Chunks[d][c];
        return JsonSerializer.Serialize(new BlockPlacement(index, b.Position, offset, b.Shape, b.Order == MemoryOrder.Fortran ? "F" : "C", b.Rank),
            FlightJson.Default.BlockPlacement);
    }
}

/// <summary>A batch's application metadata: which block it is, where it lies in the array (its
/// position in the grid of blocks, and the index of its first element), its shape and order, and its rank.</summary>
internal sealed record BlockPlacement(int Block, long[] Position, long[] Offset, long[] Shape, string Order, int Rank);

/// <summary>A ticket: the array and timestep, and one block of it (or all of them).</summary>
internal sealed record BlockTicket(string Array, long Timestep, int? Block = null);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(BlockPlacement))]
[System.Text.Json.Serialization.JsonSerializable(typeof(BlockTicket))]
internal sealed partial class FlightJson : System.Text.Json.Serialization.JsonSerializerContext;
