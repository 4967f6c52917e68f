using Deisa.Engine.Messages;
using Deisa.Engine.Node;
using Deisa.Model;
using Deisa.Protocol.BlockFrames;

namespace Deisa.Server;

/// <summary>
/// What a node does for the calls of a send that the block channel brings: admission under
/// back-pressure (where the head checks the block: in this process, or over a cluster node's
/// link), a slot of the pool, the commit.
/// </summary>
internal sealed class BlockOperations(IAdmission head, NodeActor node)
{
    /// <summary>Rank <paramref name="rank"/>'s connection opened, or ended with every frame handled (see <see cref="IAdmission"/>).</summary>
    public void ChannelOpened(int rank, Func<bool> answering)
    {
        try { head.BlockChannelOpened(rank, answering); }
        catch (ObjectDisposedException) { } // the run ended
    }

    /// <inheritdoc cref="ChannelOpened"/>
    public void ChannelClosed(int rank)
    {
        try { head.BlockChannelClosed(rank); }
        catch (ObjectDisposedException) { } // the run ended
    }

    /// <summary>A slot the rank then writes and commits.</summary>
    public async Task<SlotFrame> AcquireAsync(BlockSend send, long timeoutMs, long retiredSeen, CancellationToken ct) =>
        ToFrame(await RentAsync(send, timeoutMs, retiredSeen, ct).ConfigureAwait(false));

    /// <summary>A small block in one call: a slot, <paramref name="data"/> copied into it (read
    /// until the returned task completes), the commit.</summary>
    public async Task<SlotFrame> SendAsync(BlockSend send, long timeoutMs, long retiredSeen, ReadOnlyMemory<byte> data, CancellationToken ct) =>
        ToFrame(await RentAsync(send, timeoutMs, retiredSeen, ct, data).ConfigureAwait(false));

    /// <summary>Rank <paramref name="rank"/> wrote its slot's block (or gives the slot back).</summary>
    public async Task CommitAsync(int rank, CommitFrame commit)
    {
        // Both wait until the head was told: a commit carries no reply on the block channel,
        // and the bridge's next request must reach the head after this news.
        if (commit.Abandon) await node.AbandonAsync(commit.Slot, rank).ConfigureAwait(false);
        else await node.CommitAsync(commit.Slot, rank).ConfigureAwait(false);
    }

    /// <summary>A slot granted ahead for the rank's next block like <paramref name="like"/>; null
    /// when the pool has no room for it now.</summary>
    public async Task<SpareFrame?> AheadAsync(BlockSend like, long retiredSeen) =>
        await node.TryRentAheadAsync(like, retiredSeen).ConfigureAwait(false) is { } rented ? new SpareFrame(like.Array, like.NBytes, ToFrame(rented)) : null;

    /// <summary>The rank wrote <paramref name="send"/>'s block into the slot granted ahead: admits
    /// it (at once, unless a ticket another rank took is still on its way) and commits it; on a
    /// failure the slot goes back to the pool.</summary>
    public async Task CommitAheadAsync(BlockSend send, long slot, long timeoutMs, CancellationToken ct)
    {
        try { await head.AdmitAsync(send, Waits.FromMilliseconds(timeoutMs), ct).ConfigureAwait(false); }
        catch (Exception)
        {
            node.Abandon(slot, send.Rank);
            throw;
        }
        try { await node.CommitAheadAsync(slot, send).ConfigureAwait(false); }
        catch (Exception)
        {
            node.Abandon(slot, send.Rank);
            Withdraw(send);
            throw;
        }
    }

    /// <summary>Announces a send, waits for back-pressure, then for a slot of the pool (into
    /// which <paramref name="data"/>, if given, is written and committed at once).</summary>
    private async Task<RentedSlot> RentAsync(BlockSend send, long timeoutMs, long retiredSeen, CancellationToken ct, ReadOnlyMemory<byte>? data = null)
    {
        var started = DateTime.UtcNow;
        var timeout = Waits.FromMilliseconds(timeoutMs);
        await head.AdmitAsync(send, timeout, ct).ConfigureAwait(false);
        try
        {
            // A free slot is granted (and a small block sent) at once, without arming the wait's timeout.
            if (await node.TryRentNowAsync(send, data, retiredSeen).ConfigureAwait(false) is { } now) return now;
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(Waits.Clamp(timeout - (DateTime.UtcNow - started)));
            return await (data is { } d ? node.SendAsync(send, d, retiredSeen, cts.Token)
                                        : node.RentAsync(send, retiredSeen, cts.Token)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            Withdraw(send);
            var pool = await node.UsageAsync().ConfigureAwait(false);
            throw DeisaException.Timeout(
                $"rank {send.Rank}: send of '{send.Array}' at timestep {send.Timestep} waited {timeout.TotalSeconds:0.#} s for shared memory " +
                $"(pool of {pool.Budget} bytes, {pool.InUse} in use by {pool.Blocks} blocks); raise pool_size or release views of old timesteps");
        }
        catch (Exception)
        {
            Withdraw(send);
            throw;
        }
    }

    /// <summary>The send was announced but gets no slot: the rank may send it again, and its
    /// timestep may close without it.</summary>
    private void Withdraw(BlockSend send) => head.Withdraw(send.Rank, send.Array, send.Timestep);

    private static SlotFrame ToFrame(RentedSlot rented) => new(
        rented.Slot.Id, rented.Slot.Segment.Name, rented.Slot.Segment.Capacity, rented.Slot.Offset, rented.RetiredSeq,
        rented.Retired is null, rented.Retired ?? []);
}
