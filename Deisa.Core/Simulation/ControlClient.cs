using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using Deisa.Model;
using Deisa.Protocol;
using Deisa.Protocol.Messages;

namespace Deisa.Simulation;

/// <summary>A bridge's gRPC connection to the analytics, with the session token on every call.</summary>
public sealed class ControlClient : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly Metadata _headers;

    public ControlClient(string address, string token)
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
        _channel = GrpcChannel.ForAddress(uri, new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = 8 << 20,
            MaxSendMessageSize = 8 << 20,
        });
        Client = new Control.ControlClient(_channel);
        _headers = new Metadata { { SessionHeaders.Token, token } };
    }

    public Control.ControlClient Client { get; }

    public Metadata Headers => _headers;

    /// <summary>Runs a call, turning transport errors into <see cref="DeisaException"/>s.</summary>
    public T Call<T>(Func<Control.ControlClient, Metadata, T> call)
    {
        try { return call(Client, _headers); }
        catch (RpcException e) { throw StatusTrailer.FromRpc(e); }
        catch (HttpRequestException e) { throw new DeisaException(DeisaStatus.AnalyticsLost, $"cannot reach the analytics: {e.Message}", e); }
        catch (IOException e) { throw new DeisaException(DeisaStatus.AnalyticsLost, $"lost the connection to the analytics: {e.Message}", e); }
    }

    public void Dispose() => _channel.Dispose();
}
