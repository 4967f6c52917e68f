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
    private readonly CancellationToken _interruption;

    /// <summary>A client of the analytics at <paramref name="address"/>; its calls end early,
    /// cancelled, when <paramref name="interruption"/> is.</summary>
    public ControlClient(string address, string token, CancellationToken interruption = default)
    {
        _channel = GrpcChannels.Open(address);
        Client = new Control.ControlClient(_channel);
        _headers = new Metadata { { SessionHeaders.Token, token } };
        _interruption = interruption;
    }

    public Control.ControlClient Client { get; }

    /// <summary>A call's options: the session token, and the client's interruption.</summary>
    public CallOptions Options => new(_headers, cancellationToken: _interruption);

    /// <summary>Runs a call, turning transport errors into <see cref="DeisaException"/>s.</summary>
    public T Call<T>(Func<Control.ControlClient, CallOptions, T> call)
    {
        try { return call(Client, Options); }
        catch (RpcException e) { throw StatusTrailer.FromRpc(e); }
        catch (HttpRequestException e) { throw new DeisaException(DeisaStatus.AnalyticsLost, $"cannot reach the analytics: {e.Message}", e); }
        catch (IOException e) { throw new DeisaException(DeisaStatus.AnalyticsLost, $"lost the connection to the analytics: {e.Message}", e); }
    }

    public void Dispose() => _channel.Dispose();
}
