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
        _channel = GrpcChannels.Open(address);
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
