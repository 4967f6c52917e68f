using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Deisa.Model;
using Deisa.Protocol;

namespace Deisa.Server;

/// <summary>
/// Refuses any call without the session's token, and turns Deisa errors into gRPC statuses
/// that carry the status code; any other exception becomes an internal error for that call
/// only, never a crash of the analytics.
/// </summary>
internal sealed class SessionInterceptor(SessionToken token) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        try { return await continuation(request, context).ConfigureAwait(false); }
        catch (Exception e) { throw Translate(e); }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        try { await continuation(request, responseStream, context).ConfigureAwait(false); }
        catch (Exception e) { throw Translate(e); }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        try { await continuation(requestStream, responseStream, context).ConfigureAwait(false); }
        catch (Exception e) { throw Translate(e); }
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, context);
    }

    private void Check(ServerCallContext context)
    {
        var presented = context.RequestHeaders.GetValue(SessionHeaders.Token) ?? "";
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), token.Bytes))
            throw new RpcException(new Status(StatusCode.Unauthenticated, "missing or wrong session token"));
    }

    private static Exception Translate(Exception e) => e switch
    {
        RpcException => e,
        DeisaException d => StatusTrailer.ToRpc(d),
        OperationCanceledException => new RpcException(new Status(StatusCode.Cancelled, "call cancelled")),
        _ => StatusTrailer.ToRpc(new DeisaException(DeisaStatus.Internal, $"internal error: {e.GetType().Name}: {e.Message}")),
    };
}

/// <summary>The session's secret, as the server compares it.</summary>
internal sealed class SessionToken(string token)
{
    public byte[] Bytes { get; } = Encoding.UTF8.GetBytes(token);
}
