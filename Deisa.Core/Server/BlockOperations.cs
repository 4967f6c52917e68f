using Deisa.Engine.Head;
using Deisa.Engine.Node;
using Deisa.Model;
using Deisa.Protocol.Messages;
using Deisa.SharedMemory;

namespace Deisa.Server;

/// <summary>
/// What the analytics does for a block send, whichever channel brought it (the gRPC service
/// or the block channel): admission under back-pressure, a slot of the pool, the commit.
/// </summary>
internal sealed class BlockOperations(HeadActor head, NodeActor node)
{
    public async Task<AcquireBlockReply> AcquireAsync(AcquireBlockRequest request, CancellationToken ct) =>
        ToReply(await RentAsync(RentOf(request), request.TimeoutMs, request.RetiredSeen, ct).ConfigureAwait(false));

    public async Task CommitAsync(CommitBlockRequest request)
    {
        // Both wait until the head was told: a commit carries no reply on the block channel,
        // and the bridge's next request must reach the head after this news.
        if (request.Abandon) await node.AbandonAsync(request.Slot, request.Rank).ConfigureAwait(false);
        else await node.CommitAsync(request.Slot, request.Rank).ConfigureAwait(false);
    }

    /// <summary>A small block in one call: a slot, the carried bytes copied into it, the commit.</summary>
    public async Task<AcquireBlockReply> SendAsync(SendBlockRequest request, CancellationToken ct)
    {
        var block = request.Block ?? throw DeisaException.Value("a block send carries no block description");
        if (request.Data.Length != block.Nbytes)
            throw DeisaException.Value($"array '{block.Array}': block of {request.Data.Length} bytes, announced {block.Nbytes}");
        return await SendAsync(RentOf(block), block.TimeoutMs, block.RetiredSeen, request.Data.Memory, ct).ConfigureAwait(false);
    }

    /// <summary>As <see cref="SendAsync(SendBlockRequest, CancellationToken)"/>, the block's bytes
    /// in <paramref name="data"/> (read until the returned task completes).</summary>
    public async Task<AcquireBlockReply> SendAsync(RentRequest rent, long timeoutMs, long retiredSeen, ReadOnlyMemory<byte> data, CancellationToken ct) =>
        ToReply(await RentAsync(rent, timeoutMs, retiredSeen, ct, data).ConfigureAwait(false));

    /// <summary>A send's description, checked where the bridge cannot be trusted to have done it.</summary>
    public static RentRequest Rent(int rank, string array, long timestep, int dtype, long[] shape, int order, long nbytes)
    {
        if (order is not (0 or 1)) throw DeisaException.Value($"array '{array}': unknown memory order {order}");
        return new RentRequest(rank, array, timestep, (DType)dtype, shape, (MemoryOrder)order, nbytes);
    }

    private static RentRequest RentOf(AcquireBlockRequest r) => Rent(r.Rank, r.Array, r.Timestep, r.Dtype, r.Shape.ToArray(), r.Order, r.Nbytes);

    /// <summary>Announces a send, waits for back-pressure, then for a slot of the pool (into
    /// which <paramref name="data"/>, if given, is written and committed at once).</summary>
    private async Task<RentedSlot> RentAsync(RentRequest rent, long timeoutMs, long retiredSeen, CancellationToken ct, ReadOnlyMemory<byte>? data = null)
    {
        var started = DateTime.UtcNow;
        var timeout = Waits.FromMilliseconds(timeoutMs);
        await head.AdmitAsync(rent.Rank, rent.Array, rent.Timestep, rent.DType, timeout, ct, rent.Shape, rent.NBytes)
            .ConfigureAwait(false);
        try
        {
            // A free slot is granted (and a small block sent) at once, without arming the wait's timeout.
            if (await node.TryRentNowAsync(rent, data, retiredSeen).ConfigureAwait(false) is { } now) return now;
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(Waits.Clamp(timeout - (DateTime.UtcNow - started)));
            return await (data is { } d ? node.SendAsync(rent, d, retiredSeen, cts.Token)
                                        : node.RentAsync(rent, retiredSeen, cts.Token)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            Withdraw(rent);
            var pool = await node.UsageAsync().ConfigureAwait(false);
            throw DeisaException.Timeout(
                $"rank {rent.Rank}: send of '{rent.Array}' at timestep {rent.Timestep} waited {timeout.TotalSeconds:0.#} s for shared memory " +
                $"(pool of {pool.Budget} bytes, {pool.InUse} in use by {pool.Blocks} blocks); raise pool_size or release views of old timesteps");
        }
        catch (Exception)
        {
            Withdraw(rent);
            throw;
        }
    }

    /// <summary>The send was announced but gets no slot: the rank may send it again, and its
    /// timestep may close without it.</summary>
    private void Withdraw(RentRequest rent) => head.Withdraw(rent.Rank, rent.Array, rent.Timestep);

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
}
