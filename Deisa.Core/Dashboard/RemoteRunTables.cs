using Deisa.Model;
using Deisa.Protocol;
using Deisa.Protocol.Messages;
using Grpc.Core;
using Grpc.Net.Client;

namespace Deisa.Dashboard;

/// <summary>The dashboard's tables of a run of another process, asked of its control server
/// (the Dashboard service of deisa.proto) with the session token.</summary>
public sealed class RemoteRunTables : IDashboardSource, IDisposable
{
    private static readonly TimeSpan CallLimit = TimeSpan.FromSeconds(10);
    private readonly GrpcChannel _channel;
    private readonly Protocol.Messages.Dashboard.DashboardClient _client;
    private readonly Metadata _headers;

    /// <summary>The run published in <paramref name="info"/> (its address and token).</summary>
    public RemoteRunTables(RendezvousInfo info)
    {
        Token = info.Token;
        _channel = GrpcChannels.Open(info.Address);
        _client = new Protocol.Messages.Dashboard.DashboardClient(_channel);
        _headers = new Metadata { { SessionHeaders.Token, info.Token } };
    }

    /// <inheritdoc/>
    public string Token { get; }

    /// <inheritdoc/>
    public async Task<byte[]?> TableAsync(string name, string? array, CancellationToken ct)
    {
        try
        {
            var reply = await _client.TableAsync(new DashboardTableRequest { Name = name, Array = array ?? "" },
                new CallOptions(_headers, DateTime.UtcNow + CallLimit, ct)).ConfigureAwait(false);
            return reply.Arrow.ToByteArray();
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound) { return null; }
        catch (RpcException e) { throw new DeisaException(DeisaStatus.AnalyticsLost, $"cannot read the run: {StatusTrailer.FromRpc(e).Message}", e); }
        catch (HttpRequestException e) { throw new DeisaException(DeisaStatus.AnalyticsLost, $"cannot reach the analytics: {e.Message}", e); }
    }

    /// <inheritdoc/>
    public void Dispose() => _channel.Dispose();
}
