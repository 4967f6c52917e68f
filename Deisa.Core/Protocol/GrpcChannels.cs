using System.Net.Sockets;
using Grpc.Net.Client;

namespace Deisa.Protocol;

/// <summary>The gRPC channel to an analytics' address (a bridge's control calls, a node's link).</summary>
public static class GrpcChannels
{
    /// <summary>A channel to <paramref name="address"/> (<c>unix:/path</c> or <c>tcp://host:port</c>),
    /// with the message limits of the protocol.</summary>
    public static GrpcChannel Open(string address)
    {
        var parsed = Address.Parse(address, allowRemote: true);
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            KeepAlivePingDelay = Timeout.InfiniteTimeSpan,
        };
        string uri;
        if (parsed.UnixPath is { } path)
        {
            var endpoint = new UnixDomainSocketEndPoint(path);
            handler.ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(endpoint, ct).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
            uri = "http://localhost";
        }
        else uri = $"http://{(parsed.Host!.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{parsed.Host}]" : parsed.Host)}:{parsed.Port}";
        return GrpcChannel.ForAddress(uri, new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = 8 << 20,
            MaxSendMessageSize = 8 << 20,
        });
    }
}
