using System.Net;
using Deisa.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Deisa.Server;

/// <summary>
/// A web server of the run's own on TCP (the dashboard, the Arrow Flight endpoints): Kestrel
/// listening at a "host:port" address (port 0: a free one), embedded in the process (see
/// <see cref="EmbeddedLifetime"/>), without logging or a Server header; errors name what it
/// serves and the address.
/// </summary>
internal static class TcpWebApp
{
    /// <summary>A builder listening at <paramref name="address"/> with <paramref name="protocols"/>;
    /// <paramref name="what"/> ("dashboard") and <paramref name="why"/> (why TCP) name it in the error.</summary>
    /// <exception cref="DeisaException">The address is not a TCP address.</exception>
    public static (WebApplicationBuilder Builder, IPAddress Host) Create(string address, string what, string why, HttpProtocols protocols,
        Action<KestrelServerOptions>? configure = null)
    {
        var a = Protocol.Address.Parse(address, allowRemote: true);
        if (a.Host is not { } host) throw DeisaException.Value($"{what} address '{address}' must be 'host:port' ({why})");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            configure?.Invoke(k);
            k.Listen(host, a.Port, o => o.Protocols = protocols);
        });
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, EmbeddedLifetime>();
        return (builder, host);
    }

    /// <summary>Starts <paramref name="app"/>; returns where it listens ("http://host:port", a host
    /// listening on every interface named by this machine's name).</summary>
    /// <exception cref="DeisaException">The address cannot be listened on (the app is disposed).</exception>
    public static async Task<Uri> StartAsync(WebApplication app, string address, string what)
    {
        try { await app.StartAsync().ConfigureAwait(false); }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw DeisaException.Value($"cannot serve {what} on {address}: {e.Message}");
        }
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(bound.Replace("0.0.0.0", Environment.MachineName, StringComparison.Ordinal));
    }

    /// <summary>Stops <paramref name="app"/>, waiting at most 2 s for requests under way.</summary>
    public static async Task StopAsync(WebApplication app)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try { await app.StopAsync(cts.Token).ConfigureAwait(false); } catch (OperationCanceledException) { }
        await app.DisposeAsync().ConfigureAwait(false);
    }
}
