using System.Text.Json;
using Deisa.Arrays;
using Deisa.Errors;
using Deisa.NodeActor;
using Deisa.Transport.Protocol;
using Grpc.Core;
using Microsoft.Extensions.Hosting;

namespace Deisa.Transport;

/// <summary>The gRPC face of the head and node actors for the bridges.</summary>
internal sealed class SimulationService(HeadActor.HeadActor head, NodeActor.NodeActor node, IHostApplicationLifetime lifetime)
    : Simulation.SimulationBase
{
    private static TimeSpan Timeout(long ms) => ms > 0 ? TimeSpan.FromMilliseconds(ms) : TimeSpan.FromDays(24);

    public override async Task<RegisterReply> Register(RegisterRequest request, ServerCallContext context)
    {
        var decls = request.Arrays.Select(a => new BlockDeclaration(request.Rank, a.Name,
            a.GlobalShape.ToArray(), a.ChunkShape.ToArray(), a.ChunkPosition.ToArray(), (DType)a.Dtype, (MemoryOrder)a.Order)).ToList();
        var registering = head.RegisterAsync(request.Rank, request.WorldSize, decls, Timeout(request.TimeoutMs), context.CancellationToken);
        // A rank on this node: its process can be watched directly.
        if (request.Pid > 0 && request.Host == Environment.MachineName)
            head.SetLocalPid(request.Rank, request.Pid);
        var layouts = await registering;
        var reply = new RegisterReply { PoolBytes = node.PoolBudget };
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
        {
            head.RankLost(request.Rank);
            node.AbandonRank(request.Rank);
        }
    }

    public override async Task<AcquireBlockReply> AcquireBlock(AcquireBlockRequest request, ServerCallContext context) =>
        ToReply(await RentAsync(request, context));

    public override async Task<AcquireBlockReply> SendBlock(SendBlockRequest request, ServerCallContext context)
    {
        var block = request.Block ?? throw DeisaException.Value("a block send carries no block description");
        if (request.Data.Length != block.Nbytes)
            throw DeisaException.Value($"array '{block.Array}': block of {request.Data.Length} bytes, announced {block.Nbytes}");
        var rented = await RentAsync(block, context);
        bool copied = false;
        try
        {
            request.Data.Span.CopyTo(rented.Slot.Segment.Slice(rented.Slot.Offset, request.Data.Length));
            copied = true;
        }
        finally
        {
            if (!copied) node.Abandon(rented.Slot.Id, block.Rank);
        }
        await node.CommitAsync(rented.Slot.Id, block.Rank);
        return ToReply(rented);
    }

    /// <summary>Announces a send, waits for back-pressure, then for a slot of the pool.</summary>
    private async Task<RentedSlot> RentAsync(AcquireBlockRequest request, ServerCallContext context)
    {
        var started = DateTime.UtcNow;
        var timeout = Timeout(request.TimeoutMs);
        var dtype = (DType)request.Dtype;
        if (request.Order is not (0 or 1)) throw DeisaException.Value($"array '{request.Array}': unknown memory order {request.Order}");
        await head.AdmitAsync(request.Rank, request.Array, request.Timestep, dtype, timeout, context.CancellationToken,
            request.Shape.ToArray(), request.Nbytes);
        var left = timeout - (DateTime.UtcNow - started);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        cts.CancelAfter(Actors.Waits.Clamp(left));
        RentedSlot rented;
        try
        {
            rented = await node.RentAsync(new RentRequest(request.Rank, request.Array, request.Timestep, dtype,
                request.Shape.ToArray(), (MemoryOrder)request.Order, request.Nbytes), request.RetiredSeen, cts.Token);
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            Withdraw(request);
            var pool = await node.UsageAsync();
            throw DeisaException.Timeout(
                $"rank {request.Rank}: send of '{request.Array}' at timestep {request.Timestep} waited {timeout.TotalSeconds:0.#} s for shared memory " +
                $"(pool of {pool.Budget} bytes, {pool.InUse} in use by {pool.Blocks} blocks); raise pool_size or release views of old timesteps");
        }
        catch (Exception)
        {
            Withdraw(request);
            throw;
        }
        return rented;
    }

    private static AcquireBlockReply ToReply(RentedSlot rented)
    {
        var reply = new AcquireBlockReply
        {
            Slot = rented.Slot.Id, Segment = rented.Slot.Segment.Name, SegmentSize = rented.Slot.Segment.Capacity,
            Offset = rented.Slot.Offset, RetireAll = rented.Retired is null, RetiredSeq = rented.RetiredSeq,
        };
        if (rented.Retired is not null) reply.RetiredSegments.AddRange(rented.Retired);
        return reply;
    }

    /// <summary>The send was announced but gets no slot: the rank may send it again, and its
    /// timestep may close without it.</summary>
    private void Withdraw(AcquireBlockRequest request) => head.Withdraw(request.Rank, request.Array, request.Timestep);

    public override async Task<Empty> CommitBlock(CommitBlockRequest request, ServerCallContext context)
    {
        if (request.Abandon) node.Abandon(request.Slot, request.Rank);
        else await node.CommitAsync(request.Slot, request.Rank);
        return new Empty();
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

    private static Protocol.FeedbackValue ToWire(Feedback.FeedbackValue v) =>
        new() { Kind = (int)v.Kind, Data = Google.Protobuf.ByteString.CopyFrom(v.Data) };

    public override async Task<Empty> Close(CloseRequest request, ServerCallContext context)
    {
        await head.CloseAsync(request.Rank, request.HasTimestep ? request.Timestep : null);
        return new Empty();
    }

    public override async Task<StatusReply> Status(Empty request, ServerCallContext context)
    {
        var status = await head.StatusAsync();
        var pool = await node.UsageAsync();
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
            RunStatusJson.Write(w, status, pool);
        return new StatusReply { Json = System.Text.Encoding.UTF8.GetString(ms.ToArray()) };
    }
}
