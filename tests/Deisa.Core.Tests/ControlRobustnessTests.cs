using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Deisa.Analytics;
using Deisa.Model;
using Deisa.Protocol;

namespace Deisa.Core.Tests;

/// <summary>
/// The analytics' gRPC server under bad peers (issue 16, point 6): a malformed message is
/// answered INVALID_ARGUMENT naming what could not be read, not "exception was thrown by
/// handler"; a connection that never sends a call is closed after a short while.
/// Requests are written by hand (HTTP/2 over the run's Unix socket), as a hostile peer would.
/// </summary>
public sealed class ControlRobustnessTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly RendezvousDirectory _dir = new("control");

    public void Dispose() => _dir.Dispose();

    private static HttpClient ClientOf(string address) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, ct) =>
        {
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await s.ConnectAsync(new UnixDomainSocketEndPoint(address["unix:".Length..]), ct);
            return new NetworkStream(s, ownsSocket: true);
        },
    });

    /// <summary>Calls <paramref name="method"/> with <paramref name="payload"/> as its one message; the grpc-status and -message.</summary>
    private static async Task<(string Status, string Message)> CallAsync(HttpClient client, string token, string method, byte[] payload)
    {
        var frame = new byte[5 + payload.Length];
        frame[1] = (byte)(payload.Length >> 24); frame[2] = (byte)(payload.Length >> 16);
        frame[3] = (byte)(payload.Length >> 8); frame[4] = (byte)payload.Length;
        payload.CopyTo(frame, 5);
        var request = new HttpRequestMessage(HttpMethod.Post, "http://localhost" + method) 
        {
            Content = new ByteArrayContent(frame), Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Headers.TryAddWithoutValidation(SessionHeaders.Token, token);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead);
        string? Get(string name) =>
            response.TrailingHeaders.TryGetValues(name, out var t) ? t.First()
            : response.Headers.TryGetValues(name, out var h) ? h.First() : null;
        return (Get("grpc-status") ?? $"(none: HTTP {(int)response.StatusCode} {response.Version} {response.Headers} {response.TrailingHeaders})", Uri.UnescapeDataString(Get("grpc-message") ?? ""));
    }

    [Theory]
    [InlineData("/deisa.v1.Control/Register", new byte[] { 0x0a, 0xff, 0xff, 0xff, 0x0f })]    // a field longer than the message
    [InlineData("/deisa.v1.Control/GetFeedback", new byte[] { 0x07 })]                     // a field of an invalid wire type
    [InlineData("/deisa.v1.Control/Close", new byte[] { 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 })] // a varint of 11 bytes
    public async Task A_malformed_message_is_invalid_argument_naming_what_was_read(string method, byte[] payload)
    {
        await using var host = new AnalyticsHost(new AnalyticsOptions { RendezvousDirectory = _dir, Timeout = Limit });
        host.Register(_ => { }, new WindowSpec("a"));
        await host.StartAsync();
        using var client = ClientOf(host.Info!.Address);

        var (status, message) = await CallAsync(client, host.Info.Token, method, payload);

        Assert.Equal("3", status); // INVALID_ARGUMENT
        Assert.Contains("malformed", message);
        Assert.Contains(method.Split('/')[^1], message);
        // The server is none the worse: a well-formed call on the same connection is answered.
        var (ok, _) = await CallAsync(client, host.Info.Token, "/deisa.v1.Control/Status", []);
        Assert.Equal("0", ok);
    }

    [Theory]
    [InlineData(false)] // connects and says nothing
    [InlineData(true)]  // opens HTTP/2 (the preface) and makes no call
    public async Task A_connection_that_makes_no_call_is_closed_within_seconds(bool preface)
    {
        await using var host = new AnalyticsHost(new AnalyticsOptions { RendezvousDirectory = _dir, Timeout = Limit });
        host.Register(_ => { }, new WindowSpec("a"));
        await host.StartAsync();
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await s.ConnectAsync(new UnixDomainSocketEndPoint(host.Info!.Address["unix:".Length..]));
        if (preface)
        {
            await s.SendAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
            await s.SendAsync(new byte[] { 0, 0, 0, 4, 0, 0, 0, 0, 0 }); // an empty SETTINGS frame
        }
        var opened = DateTime.UtcNow;
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(Limit);
        while (await s.ReceiveAsync(buffer, SocketFlags.None, cts.Token) > 0) { } // the server's SETTINGS, pings, GOAWAY
        var open = DateTime.UtcNow - opened;
        Assert.True(open < Deisa.Server.ControlServer.IdleConnection + TimeSpan.FromSeconds(10), $"closed after {open.TotalSeconds:0.0} s");
    }
}
