using System.Net;
using System.Security.Cryptography;
using System.Text;
using Deisa.Model;
using Deisa.Protocol;
using Deisa.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Deisa.Dashboard;

/// <summary>
/// The live dashboard: a web page served over HTTP/1.1 (loopback by default) and the tables it
/// reads as Arrow IPC streams (<see cref="DashboardTables"/>), from a <see cref="IDashboardSource"/>.
/// Everything it serves needs the session token: given once as <c>?token=</c> (the URL
/// <see cref="Url"/> gives; the page then holds it in an HTTP-only, same-site cookie) or as
/// <c>Authorization: Bearer</c>. On loopback, a request naming another host is refused, so a
/// web page elsewhere cannot reach the dashboard by rebinding a DNS name to 127.0.0.1.
/// The page and Arrow's JavaScript reader are in this library: it works with no internet.
/// </summary>
public sealed class DashboardServer : IAsyncDisposable
{
    private const string Cookie = "deisa_token";

    private readonly WebApplication _app;
    private readonly IDashboardSource _source;
    private readonly byte[] _token;
    private readonly bool _loopback;
    private readonly bool _ownsSource;

    private DashboardServer(WebApplication app, IDashboardSource source, bool loopback, bool ownsSource)
    {
        _app = app;
        _source = source;
        _token = Encoding.UTF8.GetBytes(source.Token);
        _loopback = loopback;
        _ownsSource = ownsSource;
    }

    /// <summary>The page's address with the token, to open in a browser.</summary>
    public string Url { get; private set; } = "";

    /// <summary>The address it listens on (<c>http://host:port</c>, with the real port when 0 was asked).</summary>
    public string Address { get; private set; } = "";

    /// <summary>Starts serving <paramref name="source"/> at <paramref name="address"/> ("host:port" or
    /// "tcp://host:port"; port 0 takes a free one); with <paramref name="ownsSource"/>, disposing
    /// the server disposes the source.</summary>
    /// <exception cref="DeisaException">The address is not a TCP address, or cannot be listened on.</exception>
    public static async Task<DashboardServer> StartAsync(string address, IDashboardSource source, bool ownsSource = false)
    {
        var (builder, host) = TcpWebApp.Create(address, "dashboard", "a browser reaches it over TCP", HttpProtocols.Http1, k =>
        {
            k.Limits.MaxConcurrentConnections = 64;
            k.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(30);
            k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
        });
        var app = builder.Build();
        var server = new DashboardServer(app, source, IPAddress.IsLoopback(host), ownsSource);
        app.Run(server.HandleAsync);
        server.Address = (await TcpWebApp.StartAsync(app, address, "the dashboard").ConfigureAwait(false)).GetLeftPart(UriPartial.Authority);
        server.Url = $"{server.Address}/?token={Uri.EscapeDataString(source.Token)}";
        return server;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        response.Headers.CacheControl = "no-store";
        response.Headers["X-Content-Type-Options"] = "nosniff";
        if (_loopback && !IsLoopbackHost(request.Host.Host))
        {
            await Text(response, StatusCodes.Status403Forbidden, $"the dashboard answers on loopback only, not to host '{request.Host.Host}'").ConfigureAwait(false);
            return;
        }
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            await Text(response, StatusCodes.Status405MethodNotAllowed, "the dashboard is read with GET").ConfigureAwait(false);
            return;
        }
        string path = request.Path.Value ?? "/";
        if (request.Query.TryGetValue("token", out var given) && Matches(given.ToString()))
        {
            response.Cookies.Append(Cookie, given.ToString(), new CookieOptions
            {
                HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/", IsEssential = true,
            });
            response.Redirect(path); // the token leaves the address bar and the history
            return;
        }
        if (!Authorized(request))
        {
            await Text(response, StatusCodes.Status401Unauthorized,
                "open the dashboard's address as deisa printed it (it carries the session token), or send 'Authorization: Bearer TOKEN'").ConfigureAwait(false);
            return;
        }
        if (path == "/") { await Asset(response, "index.html").ConfigureAwait(false); return; }
        if (path.StartsWith("/assets/", StringComparison.Ordinal)) { await Asset(response, path["/assets/".Length..]).ConfigureAwait(false); return; }
        if (path.StartsWith("/api/", StringComparison.Ordinal))
        {
            byte[]? bytes;
            try { bytes = await _source.TableAsync(path["/api/".Length..], request.Query["array"].FirstOrDefault(), context.RequestAborted).ConfigureAwait(false); }
            catch (DeisaException e)
            {
                await Text(response, StatusCodes.Status503ServiceUnavailable, e.Message).ConfigureAwait(false);
                return;
            }
            if (bytes is null)
            {
                await Text(response, StatusCodes.Status404NotFound, $"no table '{path["/api/".Length..]}': the tables are {string.Join(", ", DashboardTables.Names)}").ConfigureAwait(false);
                return;
            }
            response.ContentType = "application/vnd.apache.arrow.stream";
            response.ContentLength = bytes.Length;
            await response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
            return;
        }
        await Text(response, StatusCodes.Status404NotFound, $"nothing at {path}").ConfigureAwait(false);
    }

    private bool Authorized(HttpRequest request)
    {
        if (request.Cookies.TryGetValue(Cookie, out var cookie) && Matches(cookie)) return true;
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal) && Matches(header["Bearer ".Length..].Trim());
    }

    private bool Matches(string? token) =>
        token is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), _token);

    private static bool IsLoopbackHost(string host) =>
        host is "localhost" || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    private static async Task Asset(HttpResponse response, string name)
    {
        var type = Path.GetExtension(name) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".txt" => "text/plain; charset=utf-8",
            _ => null,
        };
        using var stream = type is null || name.Contains('/') ? null : typeof(DashboardServer).Assembly.GetManifestResourceStream("dashboard/" + name);
        if (stream is null)
        {
            await Text(response, StatusCodes.Status404NotFound, $"no asset {name}").ConfigureAwait(false);
            return;
        }
        response.ContentType = type;
        response.ContentLength = stream.Length;
        if (name.EndsWith(".html", StringComparison.Ordinal))
            response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'";
        await stream.CopyToAsync(response.Body).ConfigureAwait(false);
    }

    private static Task Text(HttpResponse response, int status, string message)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(message + "\n");
    }

    /// <summary>Stops serving.</summary>
    public async ValueTask DisposeAsync()
    {
        await TcpWebApp.StopAsync(_app).ConfigureAwait(false);
        if (_ownsSource && _source is IDisposable owned) owned.Dispose();
    }
}
