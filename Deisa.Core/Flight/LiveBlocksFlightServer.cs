using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Server;
using Deisa.Engine.Head;
using Deisa.Engine.Messages;
using Deisa.Engine.Node;
using Deisa.Model;
using Google.Protobuf;
using Grpc.Core;

namespace Deisa.Flight;

/// <summary>
/// The live blocks of this node for Arrow Flight clients: every array at every timestep the
/// run holds now (ListFlights; a descriptor is the path [array, timestep]), streamed whole or
/// one block (DoGet; the ticket is JSON {"array", "timestep", "block"}), one record batch per
/// block (<see cref="BlockBatches"/>), each read in place under a lease of its own. Every call
/// needs "authorization: Bearer TOKEN" (the session token).
/// </summary>
internal sealed class LiveBlocksFlightServer(HeadActor head, NodeActor node, FlightToken token) : FlightServer
{
    public override async Task ListFlights(FlightCriteria request, IAsyncStreamWriter<FlightInfo> responseStream, ServerCallContext context)
    {
        Check(context);
        foreach (var array in await LiveHereAsync().ConfigureAwait(false))
            await responseStream.WriteAsync(InfoOf(array)).ConfigureAwait(false);
    }

    public override async Task<FlightInfo> GetFlightInfo(FlightDescriptor request, ServerCallContext context)
    {
        Check(context);
        var paths = request.Paths.ToList();
        if (paths.Count != 2 || !long.TryParse(paths[1], out long t))
            throw new RpcException(new Status(StatusCode.InvalidArgument, "a descriptor is the path [array, timestep]"));
        return InfoOf(await FindAsync(paths[0], t).ConfigureAwait(false));
    }

    public override async Task<Schema> GetSchema(FlightDescriptor request, ServerCallContext context) =>
        (await GetFlightInfo(request, context).ConfigureAwait(false)).Schema;

    public override async Task DoGet(FlightTicket ticket, FlightServerRecordBatchStreamWriter responseStream, ServerCallContext context)
    {
        Check(context);
        BlockTicket? wanted;
        try { wanted = JsonSerializer.Deserialize(ticket.Ticket.Span, FlightJson.Default.BlockTicket); }
        catch (JsonException e) { throw new RpcException(new Status(StatusCode.InvalidArgument, $"a ticket is JSON {{\"array\", \"timestep\", \"block\"}}: {e.Message}")); }
        if (wanted is null) throw new RpcException(new Status(StatusCode.InvalidArgument, "empty ticket"));
        var array = await FindAsync(wanted.Array, wanted.Timestep).ConfigureAwait(false);
        if (wanted.Block is { } only && (only < 0 || only >= array.Blocks.Count))
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"'{array.Name}' has blocks 0 to {array.Blocks.Count - 1}, not {only}"));
        var schema = BlockBatches.SchemaOf(array);
        var blocks = wanted.Block is { } one ? [one] : Enumerable.Range(0, array.Blocks.Count);
        foreach (int k in blocks)
        {
            long slot = Leases.SlotOf(array.Blocks[k].Location.Lease);
            (nint address, long nbytes) view;
            try { view = await node.ViewAsync(slot).ConfigureAwait(false); }
            catch (DeisaException) { throw Gone(array); }
            try
            {
                using var batch = BlockBatches.Batch(schema, array, k, view.address, view.nbytes);
                await responseStream.WriteAsync(batch, ByteString.CopyFromUtf8(BlockBatches.Describe(array, k))).ConfigureAwait(false);
            }
            finally { node.Release(slot); }
        }
    }

    /// <summary>The live arrays whose blocks are all in this node's shared memory.</summary>
    private async Task<IEnumerable<LiveArray>> LiveHereAsync() =>
        (await head.LiveArraysAsync().ConfigureAwait(false)).Where(a => a.Blocks.All(b => Leases.NodeOf(b.Location.Lease) == 0));

    private async Task<LiveArray> FindAsync(string name, long t) =>
        (await LiveHereAsync().ConfigureAwait(false)).FirstOrDefault(a => a.Name == name && a.Timestep == t)
        ?? throw new RpcException(new Status(StatusCode.NotFound, $"'{name}' at timestep {t} is not held any more (or not yet): ListFlights lists what is"));

    private static RpcException Gone(LiveArray a) =>
        new(new Status(StatusCode.NotFound, $"'{a.Name}' at timestep {a.Timestep} was let go while it was read: no window holds it any more"));

    private static FlightInfo InfoOf(LiveArray a)
    {
        var ticket = new FlightTicket(JsonSerializer.SerializeToUtf8Bytes(new BlockTicket(a.Name, a.Timestep), FlightJson.Default.BlockTicket));
        long bytes = a.Blocks.Sum(b => b.Location.NBytes);
        return new FlightInfo(BlockBatches.SchemaOf(a), FlightDescriptor.CreatePathDescriptor(a.Name, a.Timestep.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            [new FlightEndpoint(ticket, [])], -1, bytes);
    }

    private void Check(ServerCallContext context)
    {
        var header = context.RequestHeaders.GetValue("authorization") ?? "";
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal)
            || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()), token.Bytes))
            throw new RpcException(new Status(StatusCode.Unauthenticated, "send the session token as 'authorization: Bearer TOKEN'"));
    }
}

/// <summary>The session token the Flight server checks.</summary>
internal sealed class FlightToken(string token)
{
    public byte[] Bytes { get; } = Encoding.UTF8.GetBytes(token);
}
