using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Deisa.Engine.Head;
using Deisa.Engine.Messages;
using Deisa.Engine.Node;
using Deisa.Model;
using Deisa.Protocol.Messages;

namespace Deisa.Server;

/// <summary>The gRPC face of the head and node actors for the bridges' control calls (their sends come on the block channel).</summary>
[BindServiceMethod(typeof(ControlService), nameof(Bind))]
internal sealed class ControlService(HeadActor head, NodeActor node, RanksChannel blocks,
    IHostApplicationLifetime lifetime)
    : Control.ControlBase
{
    /// <summary>Binds the service with its requests checked (<see cref="CheckedRequests"/>).</summary>
    public static void Bind(ServiceBinderBase binder, Control.ControlBase service) => Control.BindService(new CheckedRequests(binder), service);

    public override async Task<RegisterReply> Register(RegisterRequest request, ServerCallContext context)
    {
        var decls = request.Arrays.Select(a => new BlockDeclaration(request.Rank, a.Name,
            a.GlobalShape.ToArray(), a.ChunkShape.ToArray(), a.ChunkPosition.ToArray(), (DType)a.Dtype, (MemoryOrder)a.Order)).ToList();
        var registering = head.RegisterAsync(request.Rank, request.WorldSize, decls, Waits.FromMilliseconds(request.TimeoutMs), context.CancellationToken, request.Host,
            request.HasHeld ? request.HeldFrom : null);
        // A rank on this node: its process can be watched directly.
        if (request.Pid > 0 && request.Host == Environment.MachineName)
            head.SetLocalPid(request.Rank, request.Pid);
        var layouts = await registering;
        var reply = new RegisterReply
        {
            PoolBytes = node.PoolBudget, BlockChannel = blocks.Path, MaxSimulationAhead = head.Options.MaxSimulationAhead,
            AdmissionBoard = blocks.AdmissionBoard ?? "",
        };
        if (head.ReplayFrom is { } from) (reply.HasReplayFrom, reply.ReplayFrom) = (true, from);
        foreach (var l in layouts.Values) if (l.DType != DType.Undeclared) reply.Dtypes[l.Name] = (int)l.DType;
        return reply;
    }

    public override async Task Attach(AttachRequest request, IServerStreamWriter<Notice> responseStream, ServerCallContext context)
    {
        await responseStream.WriteAsync(new Notice { Message = "attached" });
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        try { await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, stopping.Token); }
        catch (OperationCanceledException) { }
        if (context.CancellationToken.IsCancellationRequested && !lifetime.ApplicationStopping.IsCancellationRequested)
            head.RankLost(request.Rank); // its node gets the news and frees the slots it was writing
    }

    public override async Task<GetFeedbackReply> GetFeedback(GetFeedbackRequest request, ServerCallContext context)
    {
        var answer = await head.GetFeedbackAsync(request.Rank, request.Key, request.HasTimestep ? request.Timestep : null);
        var reply = new GetFeedbackReply();
        if (answer.Value is { } v) { reply.Found = true; reply.Value = ToWire(v); }
        if (answer.Entries is { } entries)
        {
            reply.Found = true;
            foreach (var (t, e) in entries) reply.Entries.Add(new FeedbackEntry { Timestep = t, Value = ToWire(e) });
        }
        return reply;
    }

    private static EncodedFeedback ToWire(FeedbackValue v) =>
        new() { Kind = (int)v.Kind, Data = Google.Protobuf.ByteString.CopyFrom(v.Data) };

    public override async Task<Empty> Close(CloseRequest request, ServerCallContext context)
    {
        await head.CloseAsync(request.Rank, request.HasTimestep ? request.Timestep : null);
        return new Empty();
    }

    public override async Task<StatusReply> Status(Empty request, ServerCallContext context)
    {
        var status = await head.StatusAsync() with { Pool = await node.UsageAsync() };
        return new StatusReply { Json = JsonSerializer.Serialize(status, StatusJson.Default.RunStatus) };
    }
}
