using Grpc.Core;
using Deisa.Model;

namespace Deisa.Protocol;

/// <summary>How a <see cref="DeisaException"/> travels as a gRPC status and comes back.</summary>
internal static class StatusTrailer
{
    public const string Key = "deisa-status";

    public static RpcException ToRpc(DeisaException e)
    {
        var code = e.Status switch
        {
            DeisaStatus.Value or DeisaStatus.Type => StatusCode.InvalidArgument,
            DeisaStatus.Contract => StatusCode.NotFound,
            DeisaStatus.Timeout => StatusCode.DeadlineExceeded,
            DeisaStatus.State => StatusCode.FailedPrecondition,
            DeisaStatus.AnalyticsLost => StatusCode.Unavailable,
            _ => StatusCode.Internal,
        };
        return new RpcException(new Status(code, e.Message), new Metadata { { Key, ((int)e.Status).ToString() } });
    }

    public static DeisaException FromRpc(RpcException e)
    {
        var t = e.Trailers.GetValue(Key);
        if (t is not null && int.TryParse(t, out int s) && Enum.IsDefined((DeisaStatus)s))
            return new DeisaException((DeisaStatus)s, e.Status.Detail, e);
        return e.StatusCode switch
        {
            StatusCode.Unavailable or StatusCode.Cancelled or StatusCode.Aborted =>
                new DeisaException(DeisaStatus.AnalyticsLost, $"lost the connection to the analytics: {e.Status.Detail}", e),
            StatusCode.Unauthenticated => new DeisaException(DeisaStatus.AnalyticsLost, $"the analytics refused this bridge: {e.Status.Detail}", e),
            StatusCode.DeadlineExceeded => new DeisaException(DeisaStatus.Timeout, $"the analytics did not answer in time: {e.Status.Detail}", e),
            _ => new DeisaException(DeisaStatus.Internal, $"{e.StatusCode}: {e.Status.Detail}", e),
        };
    }
}
