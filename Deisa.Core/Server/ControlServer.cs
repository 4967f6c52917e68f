using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Deisa.Engine.Head;
using Deisa.Engine.Node;
using Deisa.Protocol;

namespace Deisa.Server;

/// <summary>The gRPC server of the analytics process (Kestrel, HTTP/2 only), on a Unix socket or loopback TCP.</summary>
internal sealed class ControlServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ControlServer(WebApplication app, string address)
    {
        _app = app;
        BoundAddress = address;
    }

    /// <summary>How long a connection with no call in progress stays open.</summary>
    public static readonly TimeSpan IdleConnection = TimeSpan.FromSeconds(10);

    /// <summary>Connections served at once: more than the ranks and nodes of any run.</summary>
    public const int MaxConnections = 65536;

    /// <summary>The address bridges connect to (with the real port when 0 was asked).</summary>
    public string BoundAddress { get; }

    /// <summary>Starts serving; <paramref name="services"/> and <paramref name="map"/> add what
    /// the layers above serve besides (the run's dashboard tables).</summary>
    public static async Task<ControlServer> StartAsync(Address address, string token, HeadActor head, NodeActor node,
        RanksChannel blocks, Action<IServiceCollection>? services = null, Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.Http2.MaxStreamsPerConnection = 1024;
            // A peer that vanishes without closing its connection (a node's machine lost, a
            // network cut) is found by its unanswered pings within about 15 s: a cluster node's
            // link then ends, which fails the run naming the node, instead of waiting forever.
            k.Limits.Http2.KeepAlivePingDelay = TimeSpan.FromSeconds(5);
            k.Limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(10);
            // A connection that makes no call (a peer that never authenticates: every call
            // carries the token) is closed after IdleConnection; a bridge always has its attach
            // stream open, a node its link. Kestrel serves connections without a thread each,
            // and their number is bounded too.
            k.Limits.KeepAliveTimeout = IdleConnection;
            k.Limits.RequestHeadersTimeout = IdleConnection;
            k.Limits.MaxConcurrentConnections = MaxConnections;
            if (address.UnixPath is { } path)
            {
                if (File.Exists(path)) File.Delete(path);
                k.ListenUnixSocket(path, o => o.Protocols = HttpProtocols.Http2);
            }
            else k.Listen(address.Host!, address.Port, o => o.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, EmbeddedLifetime>();
        builder.Services.AddSingleton(new SessionToken(token));
        builder.Services.AddSingleton(head);
        builder.Services.AddSingleton(node);
        builder.Services.AddSingleton(blocks);
        services?.Invoke(builder.Services);
        builder.Services.AddGrpc(o =>
        {
            o.Interceptors.Add<SessionInterceptor>();
            o.MaxReceiveMessageSize = 8 << 20;
            o.EnableDetailedErrors = false;
        });
        var app = builder.Build();
        app.MapGrpcService<ControlService>();
        app.MapGrpcService<NodeLinkService>();
        map?.Invoke(app);
        await app.StartAsync().ConfigureAwait(false);
        string bound = address.ToString();
        if (address.UnixPath is { } p)
            File.SetUnixFileMode(p, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        else if (address.Port == 0)
        {
            var a = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            bound = "tcp://" + a["http://".Length..];
        }
        return new ControlServer(app, bound);
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try { await _app.StopAsync(cts.Token).ConfigureAwait(false); } catch (OperationCanceledException) { }
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
