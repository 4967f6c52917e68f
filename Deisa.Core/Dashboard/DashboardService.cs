using Deisa.Protocol.Messages;
using Google.Protobuf;
using Grpc.Core;

namespace Deisa.Dashboard;

/// <summary>The run's dashboard tables over gRPC (the Dashboard service of deisa.proto), for a
/// dashboard served by another process; the control server's session check guards it.</summary>
internal sealed class DashboardService(IDashboardSource tables) : Protocol.Messages.Dashboard.DashboardBase
{
    public override async Task<DashboardTableReply> Table(DashboardTableRequest request, ServerCallContext context)
    {
        var bytes = await tables.TableAsync(request.Name, request.Array.Length == 0 ? null : request.Array, context.CancellationToken).ConfigureAwait(false)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"no table '{request.Name}': the tables are {string.Join(", ", DashboardTables.Names)}"));
        return new DashboardTableReply { Arrow = ByteString.CopyFrom(bytes) };
    }
}
