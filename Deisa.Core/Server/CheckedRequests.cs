using Google.Protobuf;
using Grpc.Core;

namespace Deisa.Server;

/// <summary>
/// Binds a generated gRPC service with request deserializers that answer a malformed message
/// with INVALID_ARGUMENT naming the call and what could not be read. Without it, the
/// framework reads the message before any interceptor runs and a parse error is an UNKNOWN
/// "exception was thrown by handler". Services opt in with
/// <c>[BindServiceMethod(typeof(TheirType), nameof(Bind))]</c> and a <c>Bind</c> that hands
/// the generated <c>BindService</c> this binder.
/// </summary>
internal sealed class CheckedRequests(ServiceBinderBase inner) : ServiceBinderBase
{
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Checked(method), handler);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Checked(method), handler);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Checked(method), handler);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Checked(method), handler);

    private static Method<TRequest, TResponse> Checked<TRequest, TResponse>(Method<TRequest, TResponse> method)
    {
        var requests = method.RequestMarshaller;
        var checkedRequests = Marshallers.Create(requests.ContextualSerializer, context =>
        {
            try { return requests.ContextualDeserializer(context); }
            catch (InvalidProtocolBufferException e)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument,
                    $"malformed {typeof(TRequest).Name} in call {method.Name}: {e.Message}"));
            }
        });
        return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, checkedRequests, method.ResponseMarshaller);
    }
}
