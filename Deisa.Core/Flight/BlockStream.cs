using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using Apache.Arrow.Ipc;
using Deisa.Engine.Messages;
using Deisa.Engine.Node;
using Deisa.Model;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Deisa.Flight;

/// <summary>
/// Flight's DoGet, served without Arrow's Flight server: that one serializes a batch into a
/// stream, then into a protobuf message, then into the socket's buffer (three copies of each
/// block); this one writes the gRPC messages itself, each block's bytes once, from shared
/// memory into the socket's buffer. Arrow's IPC writer still makes the messages' metadata
/// (<see cref="IpcMessages"/>). The ticket is a <see cref="BlockTicket"/>; every block is read
/// in place under a lease of its own.
/// </summary>
internal sealed class BlockStream(NodeActor node, int nodeIndex, FlightToken token)
{
    /// <summary>The gRPC method this serves.</summary>
    public const string Path = "/arrow.flight.protocol.FlightService/DoGet";

    private const int MaxTicketBytes = 4 << 20;

    /// <summary>Serves one DoGet call.</summary>
    public async Task ServeAsync(HttpContext http)
    {
        var response = http.Response;
        response.ContentType = "application/grpc";
        try
        {
            if (!token.Accepts(http.Request.Headers.Authorization.ToString()))
                throw new RpcException(new Status(StatusCode.Unauthenticated, FlightToken.Asked));
            var wanted = BlockTicket.Parse(await ReadTicketAsync(http.Request.BodyReader, http.RequestAborted).ConfigureAwait(false))
                ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "not a ticket of this run's endpoints (take tickets from ListFlights or GetFlightInfo)"));
            await StreamAsync(wanted, response, http.RequestAborted).ConfigureAwait(false);
            response.AppendTrailer("grpc-status", "0");
        }
        catch (RpcException e)
        {
            response.AppendTrailer("grpc-status", ((int)e.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            response.AppendTrailer("grpc-message", PercentEncode(e.Status.Detail));
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested) { }
    }

    private async Task StreamAsync(BlockTicket wanted, HttpResponse response, CancellationToken ct)
    {
        var schema = BlockBatches.SchemaOf(wanted);
        int item = DTypes.ItemSize(wanted.DType);
        var messages = new IpcMessages();
        using var writer = new ArrowStreamWriter(messages, schema, leaveOpen: true);
        foreach (var b in wanted.Blocks)
        {
            if (b.Node != nodeIndex)
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"block {b.Place.Block} of '{wanted.Array}' lies on node {b.Node}: read it at the location its flight gives"));
            long slot = Leases.SlotOf(b.Lease);
            (nint Address, long NBytes) view;
            try { view = await node.ViewAsync(slot).ConfigureAwait(false); }
            catch (DeisaException)
            {
                throw new RpcException(new Status(StatusCode.NotFound, $"'{wanted.Array}' at timestep {wanted.Timestep} is not held any more (or not yet): ListFlights lists what is"));
            }
            try
            {
                if (view.NBytes != b.NBytes || b.NBytes != b.Place.Shape.Aggregate(1L, (p, n) => p * n) * item)
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"block {b.Place.Block} of '{wanted.Array}': the ticket does not match the block"));
                using (var batch = BlockBatches.Batch(schema, wanted.DType, view.Address, view.NBytes))
                    await writer.WriteRecordBatchAsync(batch, ct).ConfigureAwait(false); // metadata only: the body is skipped
                var metadata = Encoding.UTF8.GetBytes(b.Place.ToJson());
                foreach (var (header, bodyLength) in messages.Take())
                    Write(response.BodyWriter, header, bodyLength == 0 ? null : metadata, bodyLength, view);
                await response.BodyWriter.FlushAsync(ct).ConfigureAwait(false);
            }
            finally { node.Release(slot); }
        }
    }

    /// <summary>One gRPC message: a FlightData with its data header, and for a batch its
    /// application metadata and its body: the block's bytes, then the padding.</summary>
    private static unsafe void Write(PipeWriter output, byte[] header, byte[]? metadata, long bodyLength, (nint Address, long NBytes) block)
    {
        int size = 1 + CodedOutputStream.ComputeLengthSize(header.Length) + header.Length;
        if (metadata is not null) size += 1 + CodedOutputStream.ComputeLengthSize(metadata.Length) + metadata.Length;
        if (bodyLength > 0) size += 2 + CodedOutputStream.ComputeLengthSize(checked((int)bodyLength));
        var fields = new byte[size]; // every field up to the body's bytes
        var o = new CodedOutputStream(fields);
        o.WriteTag(2, WireFormat.WireType.LengthDelimited); // data_header
        o.WriteBytes(UnsafeByteOperations.UnsafeWrap(header));
        if (metadata is not null)
        {
            o.WriteTag(3, WireFormat.WireType.LengthDelimited); // app_metadata
            o.WriteBytes(UnsafeByteOperations.UnsafeWrap(metadata));
        }
        if (bodyLength > 0)
        {
            o.WriteTag(1000, WireFormat.WireType.LengthDelimited); // data_body: its length, then its bytes below
            o.WriteLength(checked((int)bodyLength));
        }
        o.Flush();
        Span<byte> prefix = stackalloc byte[5]; // gRPC's: not compressed, then the message's length
        prefix[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(prefix[1..], checked((uint)(size + bodyLength)));
        output.Write(prefix);
        output.Write(fields);
        if (bodyLength == 0) return;
        output.Write(new ReadOnlySpan<byte>((void*)block.Address, checked((int)block.NBytes))); // the one copy: shared memory into the socket's buffer
        int pad = checked((int)(bodyLength - block.NBytes));
        if (pad > 0)
        {
            output.GetSpan(pad)[..pad].Clear();
            output.Advance(pad);
        }
    }

    /// <summary>The request's one message: a Ticket, whose field 1 is the ticket's bytes.</summary>
    private static async Task<byte[]> ReadTicketAsync(PipeReader input, CancellationToken ct)
    {
        var prefix = new byte[5];
        while (true)
        {
            var read = await input.ReadAsync(ct).ConfigureAwait(false);
            var buffer = read.Buffer;
            if (buffer.Length >= 5)
            {
                buffer.Slice(0, 5).CopyTo(prefix);
                uint length = BinaryPrimitives.ReadUInt32BigEndian(prefix.AsSpan(1));
                if (prefix[0] != 0) throw new RpcException(new Status(StatusCode.Unimplemented, "compressed requests are not supported"));
                if (length > MaxTicketBytes) throw new RpcException(new Status(StatusCode.InvalidArgument, $"a ticket of {length} bytes: at most {MaxTicketBytes}"));
                if (buffer.Length >= 5 + length)
                {
                    var message = buffer.Slice(5, length).ToArray();
                    input.AdvanceTo(buffer.GetPosition(5 + length));
                    var cis = new CodedInputStream(message);
                    byte[] ticket = [];
                    uint tag;
                    while ((tag = cis.ReadTag()) != 0)
                    {
                        if (WireFormat.GetTagFieldNumber(tag) == 1 && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                            ticket = cis.ReadBytes().ToByteArray();
                        else cis.SkipLastField();
                    }
                    return ticket;
                }
            }
            if (read.IsCompleted) throw new RpcException(new Status(StatusCode.InvalidArgument, "no ticket in the request"));
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>gRPC's percent-encoding of a status message (every byte outside printable ASCII, and '%').</summary>
    private static string PercentEncode(string text)
    {
        var s = new StringBuilder();
        foreach (byte c in Encoding.UTF8.GetBytes(text))
            if (c is >= 0x20 and <= 0x7E and not (byte)'%') s.Append((char)c);
            else s.Append('%').Append(c.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        return s.ToString();
    }
}
