using Deisa.Engine.Head;
using Deisa.Engine.Node;
using Deisa.Model;
using Deisa.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Deisa.Flight;

/// <summary>
/// The node's Arrow Flight endpoint (opt-in): <see cref="LiveBlocksFlightServer"/> on gRPC over
/// HTTP/2, on TCP (loopback unless an address is given). <see cref="Location"/> is what a Flight
/// client connects to.
/// </summary>
public sealed class LiveBlocksEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _disposed;

    private LiveBlocksEndpoint(WebApplication app, string location)
    {
        _app = app;
        Location = location;
    }

    /// <summary>The endpoint's location, <c>grpc+tcp://host:port</c>.</summary>
    public string Location { get; }

    /// <summary>
    /// Serves the live blocks of <paramref name="node"/>, node <paramref name="nodeIndex"/> of
    /// the run, at <paramref name="address"/>: with <paramref name="head"/> (the analytics'
    /// endpoint) it also lists the arrays the run holds; without (a cluster node's), it streams
    /// the blocks of the tickets the analytics' endpoint gave.
    /// </summary>
    /// <exception cref="DeisaException">The address is not a TCP address, or cannot be listened on.</exception>
    public static async Task<LiveBlocksEndpoint> StartAsync(string address, string token, HeadActor? head, NodeActor node, int nodeIndex = 0)
    {
        var (builder, _) = TcpWebApp.Create(address, "flight", "Flight clients connect over TCP", HttpProtocols.Http2);
        // Registered by a factory, not AddFlightServer<T> (which Native AOT's trimming cannot prove safe).
        var flightToken = new FlightToken(token);
        var server = new LiveBlocksFlightServer(head, nodeIndex, flightToken);
        var blocks = new BlockStream(node, nodeIndex, flightToken);
        builder.Services.AddGrpc(o => o.MaxSendMessageSize = null);
        builder.Services.AddSingleton<Apache.Arrow.Flight.Server.FlightServer>(server);
        var app = builder.Build();
        app.MapFlightEndpoint();
        // DoGet is ours (each block copied once): it takes precedence over Arrow's (a lower order).
        app.MapPost(BlockStream.Path, blocks.ServeAsync).WithOrder(-1);
        var bound = await TcpWebApp.StartAsync(app, address, "Arrow Flight").ConfigureAwait(false);
        return new LiveBlocksEndpoint(app, $"grpc+tcp://{bound.Host}:{bound.Port}");
    }

    /// <summary>Stops serving (the run stops it as it ends, too).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return; // by its owner, and by the run as it ends
        await TcpWebApp.StopAsync(_app).ConfigureAwait(false);
    }
}
