using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Memory;
using Apache.Arrow.Types;
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

    /// <summary>The schema of the batches of <paramref name="t"/>'s array.</summary>
    public static Schema SchemaOf(BlockTicket t) => new Schema.Builder()
        .Field(f => f.Name("values").DataType(TypeOf(t.DType)).Nullable(false))
        .Metadata("array", t.Array)
        .Metadata("timestep", t.Timestep.ToString(CultureInfo.InvariantCulture))
        .Metadata("dtype", DTypes.NumpyName(t.DType))
        .Metadata("global_shape", "[" + string.Join(",", t.GlobalShape) + "]")
        .Metadata("chunks", "[" + string.Join(",", t.Chunks.Select(c => "[" + string.Join(",", c) + "]")) + "]")
        .Metadata("blocks", t.BlockCount.ToString(CultureInfo.InvariantCulture))
        .Build();

    /// <summary>A block of <paramref name="dtype"/> as a batch over its <paramref name="nbytes"/> bytes at <paramref name="address"/>.</summary>
    public static RecordBatch Batch(Schema schema, DType dtype, nint address, long nbytes)
    {
        var values = new ArrowBuffer(new NativeMemory(address, checked((int)nbytes)).Memory);
        var data = new ArrayData(schema.FieldsList[0].DataType, (int)(nbytes / DTypes.ItemSize(dtype)), 0, 0, [ArrowBuffer.Empty, values]);
        return new RecordBatch(schema, [ArrowArrayFactory.BuildArray(data)], data.Length);
    }
}
