using Deisa.Engine.Head;
using Deisa.Engine.Node;
using Deisa.Model;
using Deisa.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

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
        var a = Protocol.Address.Parse(address, allowRemote: true);
        if (a.Host is not { } host) throw DeisaException.Value($"flight address '{address}' must be 'host:port' (Flight clients connect over TCP)");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(host, a.Port, o => o.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, EmbeddedLifetime>();
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
        try { await app.StartAsync().ConfigureAwait(false); }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw DeisaException.Value($"cannot serve Arrow Flight on {address}: {e.Message}");
        }
        var bound = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new LiveBlocksEndpoint(app, $"grpc+tcp://{bound.Host}:{bound.Port}");
    }

    /// <summary>Stops serving (the run stops it as it ends, too).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return; // by its owner, and by the run as it ends
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try { await _app.StopAsync(cts.Token).ConfigureAwait(false); } catch (OperationCanceledException) { }
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
