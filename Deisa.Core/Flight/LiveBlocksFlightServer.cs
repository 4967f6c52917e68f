using System.Globalization;
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
/// Live blocks for Arrow Flight clients. The analytics' endpoint (with <paramref name="head"/>)
/// lists every array at every timestep the run holds now (ListFlights; a descriptor is the path
/// [array, timestep], or [array, timestep, block] for one block), with one endpoint per node
/// that holds some of its blocks: none for the analytics' own node (read here), the node's
/// location for a cluster node. DoGet is <see cref="BlockStream"/>'s. Every call needs
/// "authorization: Bearer TOKEN" (the session token).
/// </summary>
internal sealed class LiveBlocksFlightServer(HeadActor? head, int nodeIndex, FlightToken token) : FlightServer
{
    public override async Task ListFlights(FlightCriteria request, IAsyncStreamWriter<FlightInfo> responseStream, ServerCallContext context)
    {
        Check(context);
        var locations = await Head.FlightLocationsAsync().ConfigureAwait(false);
        foreach (var array in await Head.LiveArraysAsync().ConfigureAwait(false))
            if (array.Blocks.All(b => Leases.NodeOf(b.Location.Lease) == 0 || locations.ContainsKey(Leases.NodeOf(b.Location.Lease))))
                await responseStream.WriteAsync(InfoOf(array, Enumerable.Range(0, array.Blocks.Count), locations)).ConfigureAwait(false);
    }

    public override async Task<FlightInfo> GetFlightInfo(FlightDescriptor request, ServerCallContext context)
    {
        Check(context);
        var paths = request.Paths.ToList();
        if (paths.Count is not (2 or 3) || !long.TryParse(paths[1], CultureInfo.InvariantCulture, out long t))
            throw new RpcException(new Status(StatusCode.InvalidArgument, "a descriptor is the path [array, timestep] or [array, timestep, block]"));
        var array = (await Head.LiveArraysAsync().ConfigureAwait(false)).FirstOrDefault(a => a.Name == paths[0] && a.Timestep == t)
            ?? throw NotHeld(paths[0], t);
        var blocks = Enumerable.Range(0, array.Blocks.Count);
        if (paths.Count == 3)
        {
            if (!int.TryParse(paths[2], CultureInfo.InvariantCulture, out int k) || k < 0 || k >= array.Blocks.Count)
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"'{array.Name}' has blocks 0 to {array.Blocks.Count - 1}, not {paths[2]}"));
            blocks = [k];
        }
        var locations = await Head.FlightLocationsAsync().ConfigureAwait(false);
        foreach (int k in blocks)
            if (Leases.NodeOf(array.Blocks[k].Location.Lease) is var n and > 0 && !locations.ContainsKey(n))
                throw new RpcException(new Status(StatusCode.Unavailable, $"block {k} of '{array.Name}' lies on node {n}, whose Flight endpoint is not up (yet)"));
        return InfoOf(array, blocks, locations);
    }

    public override async Task<Schema> GetSchema(FlightDescriptor request, ServerCallContext context) =>
        (await GetFlightInfo(request, context).ConfigureAwait(false)).Schema;

    private HeadActor Head => head ?? throw new RpcException(new Status(StatusCode.Unimplemented,
        $"this is node {nodeIndex}'s endpoint, which streams the blocks of tickets: the analytics' endpoint lists the flights"));

    private static RpcException NotHeld(string array, long t) =>
        new(new Status(StatusCode.NotFound, $"'{array}' at timestep {t} is not held any more (or not yet): ListFlights lists what is"));

    /// <summary>Blocks <paramref name="blocks"/> of <paramref name="a"/>: one endpoint per node that holds some.</summary>
    private static FlightInfo InfoOf(LiveArray a, IEnumerable<int> blocks, IReadOnlyDictionary<int, string> locations)
    {
        var wanted = blocks.ToList();
        var endpoints = wanted.GroupBy(k => Leases.NodeOf(a.Blocks[k].Location.Lease)).OrderBy(g => g.Key).Select(g =>
            new FlightEndpoint(new FlightTicket(BlockTicket.Of(a, g).ToBytes()), g.Key == 0 ? [] : [new FlightLocation(locations[g.Key])])).ToList();
        var path = wanted.Count == a.Blocks.Count
            ? FlightDescriptor.CreatePathDescriptor(a.Name, a.Timestep.ToString(CultureInfo.InvariantCulture))
            : FlightDescriptor.CreatePathDescriptor(a.Name, a.Timestep.ToString(CultureInfo.InvariantCulture), wanted[0].ToString(CultureInfo.InvariantCulture));
        return new FlightInfo(BlockBatches.SchemaOf(BlockTicket.Of(a, [])), path, endpoints, -1, wanted.Sum(k => a.Blocks[k].Location.NBytes));
    }

    private void Check(ServerCallContext context)
    {
        if (!token.Accepts(context.RequestHeaders.GetValue("authorization")))
            throw new RpcException(new Status(StatusCode.Unauthenticated, FlightToken.Asked));
    }
}
