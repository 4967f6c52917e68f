using Deisa.Analytics;

namespace Deisa.Core.Tests;

/// <summary>
/// Small blocks of a rank on the analytics' node are posted, without waiting for an answer,
/// when the run's admission board admits their timestep: they arrive intact and in order,
/// back-pressure stays exact, and a refusal the analytics sends later is raised by the rank.
/// </summary>
public sealed class PostedSendTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly RendezvousDirectory _dir = new("posted");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Posted_blocks_arrive_intact_and_no_rank_gets_further_ahead_than_allowed()
    {
        const int ranks = 3, steps = 30, ahead = 2, n = 1024;
        await using var host = new AnalyticsHost(new AnalyticsOptions { RendezvousDirectory = _dir, Timeout = Limit, MaxSimulationAhead = ahead });
        var sent = new long[ranks]; // the last timestep each rank's send returned for
        Array.Fill(sent, -1);
        var seen = new List<long>();
        var tooFar = new List<string>();
        host.Register(inputs =>
        {
            var x = inputs["x"].Newest;
            seen.Add(x.Timestep);
            var bytes = x.ToArray<byte>();
            for (int r = 0; r < ranks; r++)
                if (!bytes.AsSpan(r * n, n).SequenceEqual(Pattern(n, r, x.Timestep))) tooFar.Add($"rank {r}'s block at {x.Timestep} differs");
            if (x.Timestep >= steps / 2) Thread.Sleep(2); // the second half: the ranks wait for the analytics
            // While t is processed, at most ahead - 1 newer timesteps may be pending.
            for (int r = 0; r < ranks; r++)
                if (Interlocked.Read(ref sent[r]) > x.Timestep + ahead - 1) tooFar.Add($"rank {r} sent {sent[r]} while {x.Timestep} was processed");
        }, new WindowSpec("x"));
        var posted = new long[ranks];
        var sims = Enumerable.Range(0, ranks).Select(r => Task.Factory.StartNew(() =>
        {
            using var bridge = Bridge.Open(new BridgeOptions(r, ranks) { RendezvousDirectory = _dir, Timeout = Limit });
            bridge.DeclareArray("x", [ranks * n], [n], [r], DType.UInt8);
            for (long t = 0; t < steps; t++)
            {
                if (t < steps / 2) Thread.Sleep(2); // the first half: the analytics keeps up
                bridge.Send<byte>("x", Pattern(n, r, t), t);
                Interlocked.Exchange(ref sent[r], t);
            }
            posted[r] = bridge.PostedBlocks;
            bridge.Close();
        }, TaskCreationOptions.LongRunning)).ToArray();
        await host.RunAsync().WaitAsync(Limit);
        await Task.WhenAll(sims).WaitAsync(Limit);

        Assert.Equal(Enumerable.Range(0, steps).Select(t => (long)t), seen);
        Assert.Empty(tooFar);
        // While the analytics keeps up, sends are posted; a send that finds no ticket left asks
        // the analytics (and waits): the first rank at each timestep of the second half.
        Assert.True(posted.Sum() >= steps, $"only {posted.Sum()} of {ranks * steps} blocks were posted");
    }

    [Fact]
    public async Task A_posted_block_the_analytics_could_not_place_is_raised_by_the_rank()
    {
        const int n = 8 * 1024;
        // Room for two blocks; the callback holds t = 0 for 3 s; the rank may run 8 ahead, so its
        // posts are admitted and t = 2's waits in the analytics for a slot, past the rank's timeout.
        await using var host = new AnalyticsHost(new AnalyticsOptions
            { RendezvousDirectory = _dir, Timeout = Limit, PoolBytes = 2 * n, MaxSimulationAhead = 8 });
        host.Register(inputs =>
        {
            if (inputs["x"].Newest.Timestep == 0) Thread.Sleep(3000);
        }, new WindowSpec("x"));
        DeisaException? raised = null;
        long posted = 0;
        var analytics = host.RunAsync();
        var sim = Task.Factory.StartNew(() =>
        {
            using var bridge = Bridge.Open(new BridgeOptions(0, 1) { RendezvousDirectory = _dir, Timeout = TimeSpan.FromSeconds(1) });
            bridge.DeclareArray("x", [n], [n], [0], DType.UInt8);
            for (long t = 0; t < 3; t++) bridge.Send<byte>("x", Pattern(n, 0, t), t);
            posted = bridge.PostedBlocks;
            try { bridge.Close(); } // waits for every posted block: the refusal comes back
            catch (DeisaException e) { raised = e; }
        }, TaskCreationOptions.LongRunning);
        await sim.WaitAsync(Limit);
        await analytics.WaitAsync(Limit);

        Assert.Equal(3, posted);
        Assert.NotNull(raised);
        Assert.Equal(DeisaStatus.Timeout, raised!.Status);
        Assert.Contains("an earlier block's send failed", raised.Message);
        Assert.Contains("timestep 2", raised.Message);
        Assert.Contains("shared memory", raised.Message);
    }

    [Theory]
    [InlineData(false)] // bridge.Send of a block above the inline size: copied into the slot
    [InlineData(true)]  // acquire, write, commit: zero-copy
    public async Task Large_blocks_go_into_slots_granted_ahead_intact_and_within_back_pressure(bool zeroCopy)
    {
        const int ranks = 2, steps = 24, ahead = 2, n = 4 * Bridge.InlineBlockBytes;
        var patterns = Enumerable.Range(0, ranks).Select(r => Enumerable.Range(0, steps).Select(t => Pattern(n, r, t)).ToArray()).ToArray();
        await using var host = new AnalyticsHost(new AnalyticsOptions { RendezvousDirectory = _dir, Timeout = Limit, MaxSimulationAhead = ahead, PoolBytes = 64 << 20 });
        var sent = new long[ranks];
        Array.Fill(sent, -1);
        var seen = new List<long>();
        var wrong = new List<string>();
        long processed = -1;
        host.Register(inputs =>
        {
            var x = inputs["x"].Newest;
            seen.Add(x.Timestep);
            var bytes = x.ToArray<byte>();
            for (int r = 0; r < ranks; r++)
                if (!bytes.AsSpan(r * n, n).SequenceEqual(patterns[r][x.Timestep])) wrong.Add($"rank {r}'s block at {x.Timestep} differs");
            if (x.Timestep >= steps / 2) Thread.Sleep(2);
            for (int r = 0; r < ranks; r++)
                if (Interlocked.Read(ref sent[r]) > x.Timestep + ahead - 1) wrong.Add($"rank {r} sent {sent[r]} while {x.Timestep} was processed");
            Interlocked.Exchange(ref processed, x.Timestep);
        }, new WindowSpec("x"));
        var counts = new long[ranks];
        var sims = Enumerable.Range(0, ranks).Select(r => Task.Factory.StartNew(() =>
        {
            using var bridge = Bridge.Open(new BridgeOptions(r, ranks) { RendezvousDirectory = _dir, Timeout = Limit });
            bridge.DeclareArray("x", [ranks * n], [n], [r], DType.UInt8);
            for (long t = 0; t < steps; t++)
            {
                // The first half: the analytics keeps up (waited for, not slept on: a loaded
                // machine's analytics may take longer than any fixed pause).
                if (t < steps / 2 && !SpinWait.SpinUntil(() => Interlocked.Read(ref processed) >= t - 1, Limit))
                    throw new TimeoutException($"timestep {t - 1} was not processed");
                if (zeroCopy)
                {
                    using var buffer = bridge.Acquire("x", t);
                    patterns[r][t].CopyTo(buffer.Span);
                    buffer.Commit();
                }
                else bridge.Send<byte>("x", patterns[r][t], t);
                Interlocked.Exchange(ref sent[r], t);
            }
            counts[r] = bridge.AheadBlocks;
            bridge.Close();
        }, TaskCreationOptions.LongRunning)).ToArray();
        await host.RunAsync().WaitAsync(Limit);
        await Task.WhenAll(sims).WaitAsync(Limit);

        Assert.Equal(Enumerable.Range(0, steps).Select(t => (long)t), seen);
        Assert.Empty(wrong);
        Assert.True(counts.Sum() >= steps / 2, $"only {counts.Sum()} of {ranks * steps} blocks went into slots granted ahead");
        Assert.Empty(Directory.GetFiles(Segment.Directory, host.Info!.SegmentPrefix + "*"));
    }

    [Fact]
    public async Task A_buffer_granted_ahead_and_abandoned_gives_its_slot_and_ticket_back()
    {
        const int n = 2 * Bridge.InlineBlockBytes;
        await using var host = new AnalyticsHost(new AnalyticsOptions { RendezvousDirectory = _dir, Timeout = Limit, MaxSimulationAhead = 1 });
        var seen = new List<long>();
        host.Register(inputs => seen.Add(inputs["x"].Newest.Timestep), new WindowSpec("x"));
        long aheadBlocks = 0;
        var sim = Task.Factory.StartNew(() =>
        {
            using var bridge = Bridge.Open(new BridgeOptions(0, 1) { RendezvousDirectory = _dir, Timeout = Limit });
            bridge.DeclareArray("x", [n], [n], [0], DType.UInt8);
            for (long t = 0; t < 6; t++)
            {
                Thread.Sleep(20); // the analytics keeps up: the slot ahead is there
                using var buffer = bridge.Acquire("x", t);
                Pattern(n, 0, t).CopyTo(buffer.Span);
                if (t % 2 == 0) buffer.Commit(); // odd timesteps given back unsent
            }
            aheadBlocks = bridge.AheadBlocks;
            bridge.Close();
        }, TaskCreationOptions.LongRunning);
        await host.RunAsync().WaitAsync(Limit);
        await sim.WaitAsync(Limit);

        Assert.Equal([0L, 2L, 4L], seen); // with max_simulation_ahead = 1 an unreturned ticket would stop the run
        Assert.True(aheadBlocks >= 3, $"{aheadBlocks} buffers granted ahead");
        Assert.Empty(Directory.GetFiles(Segment.Directory, host.Info!.SegmentPrefix + "*"));
    }

    private static byte[] Pattern(int n, int rank, long t) => Enumerable.Range(0, n).Select(i => (byte)(i * 7 + rank * 31 + t * 13)).ToArray();
}
