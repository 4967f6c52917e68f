using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;

namespace Deisa.Dashboard;

/// <summary>
/// Builds one Arrow record batch column by column and writes it as an Arrow IPC stream (the
/// format the dashboard's page reads with Arrow's JavaScript reader). Columns must all have
/// the same length.
/// </summary>
internal sealed class ArrowTable
{
    private readonly Schema.Builder _schema = new();
    private readonly List<IArrowArray> _columns = [];
    private int? _length;

    /// <summary>A column of 64-bit integers (null: no value).</summary>
    public ArrowTable Int64(string name, IEnumerable<long?> values)
    {
        var b = new Int64Array.Builder();
        foreach (var v in values) { if (v is { } x) b.Append(x); else b.AppendNull(); }
        return Add(name, Int64Type.Default, b.Build());
    }

    /// <summary>A column of doubles.</summary>
    public ArrowTable Double(string name, IEnumerable<double> values) =>
        Add(name, DoubleType.Default, new DoubleArray.Builder().AppendRange(values).Build());

    /// <summary>A column of UTF-8 strings (null: no value).</summary>
    public ArrowTable Utf8(string name, IEnumerable<string?> values)
    {
        var b = new StringArray.Builder();
        foreach (var v in values) { if (v is null) b.AppendNull(); else b.Append(v); }
        return Add(name, StringType.Default, b.Build());
    }

    /// <summary>A key and value in the schema's metadata.</summary>
    public ArrowTable Metadata(string key, string value)
    {
        _schema.Metadata(key, value);
        return this;
    }

    private ArrowTable Add(string name, IArrowType type, IArrowArray column)
    {
        if (_length is { } n && n != column.Length)
            throw new InvalidOperationException($"column {name} has {column.Length} rows, the others {n}");
        _length = column.Length;
        _schema.Field(f => f.Name(name).DataType(type).Nullable(true));
        _columns.Add(column);
        return this;
    }

    /// <summary>The table as an Arrow IPC stream (schema, one record batch, end).</summary>
    public byte[] ToIpc()
    {
        var schema = _schema.Build();
        using var batch = new RecordBatch(schema, _columns, _length ?? 0);
        using var stream = new MemoryStream();
        using (var writer = new ArrowStreamWriter(stream, schema, leaveOpen: true))
        {
            writer.WriteRecordBatch(batch);
            writer.WriteEnd();
        }
        return stream.ToArray();
    }
}
