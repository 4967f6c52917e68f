using Deisa.Analytics;
using Deisa.Model;
using Deisa.Simulation;

namespace Deisa.Core.Tests;

/// <summary>
/// on_analytics_failure "wait" (issue 16, point 7): ranks whose analytics is lost keep their
/// blocks of the last max_simulation_ahead timesteps and go on while they can; a new analytics
/// started in the same rendezvous directory takes the running simulation over, gets the held
/// blocks (the latest timestep every rank holds on), and nothing unprocessed is lost.
/// </summary>
public sealed class RestartTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);
    private readonly RendezvousDirectory _dir = new("restart");

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(1, 8 * 1024)]                      // blocks carried by the send call
    [InlineData(2, 8 * 1024)]
    [InlineData(2, 2 * Bridge.InlineBlockBytes)]   // blocks written into slots
    public async Task A_new_analytics_takes_the_running_simulation_over_and_nothing_unprocessed_is_lost(int ahead, int n)
    {
        const int Ranks = 2, Timesteps = 12;
        var options = new AnalyticsOptions { RendezvousDirectory = _dir, Timeout = Limit, MaxSimulationAhead = ahead };
        var first = new List<long>();
        var second = new List<(long T, double Sum)>();
        long sentAfterLoss = 0;
        var lost = new ManualResetEventSlim();
        var feedback = new long[Ranks][];
        var ranks = Enumerable.Range(0, Ranks).Select(r => Task.Factory.StartNew(() =>
        {
            using var bridge = Bridge.Open(new BridgeOptions(r, Ranks)
                { RendezvousDirectory = _dir, Timeout = Limit, OnAnalyticsFailure = AnalyticsFailurePolicy.Wait });
            bridge.DeclareArray("b", [Ranks * (n / 8)], [n / 8], [r], DType.Float64);
            for (long t = 0; t < Timesteps; t++)
            {
                bridge.Send<double>("b", Enumerable.Repeat((double)t, n / 8).ToArray(), t);
                if (lost.IsSet) Interlocked.Increment(ref sentAfterLoss);
            }
            feedback[r] = bridge.GetFeedback("seen", null)!.Entries!.Select(e => e.Timestep).ToArray();
            bridge.Close();
        }, TaskCreationOptions.LongRunning)).ToArray();

        await using (var a = new AnalyticsHost(options))
        {
            using var stop = new CancellationTokenSource();
            a.Register(inputs =>
            {
                var t = inputs["b"].Newest.Timestep;
                first.Add(t);
                a.Set("seen", t, t);
                if (first.Count == 4) stop.Cancel(); // the analytics goes away mid-run
            }, new WindowSpec("b"));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.RunAsync(stop.Token).WaitAsync(Limit));
        }
        lost.Set();
        await Task.Delay(1000); // the ranks go on while they may, then wait
        Assert.All(ranks, r => Assert.False(r.IsCompleted));
        Assert.Single(Directory.GetFiles(_dir, "feedback-*.journal")); // what the lost analytics set

        await using var b = new AnalyticsHost(options);
        b.Register(inputs =>
        {
            var newest = inputs["b"].Newest;
            second.Add((newest.Timestep, newest.Sum<double>()));
            if (newest.Timestep > first[^1]) b.Set("seen", newest.Timestep, newest.Timestep); // one timestep, one value
        }, new WindowSpec("b"));
        await b.RunAsync().WaitAsync(Limit);
        await Task.WhenAll(ranks).WaitAsync(Limit);

        Assert.Equal([0L, 1, 2, 3], first);
        var taken = second.Select(s => s.T).ToList();
        Assert.Equal(Enumerable.Range((int)taken[0], Timesteps - (int)taken[0]).Select(t => (long)t), taken); // in order, none missing to the end
        Assert.InRange(taken[0], first[^1] + 1 - ahead, first[^1] + 1); // from the oldest timestep maybe unprocessed
        Assert.All(second, s => Assert.Equal(s.T * Ranks * (n / 8), s.Sum)); // the blocks' bytes, as sent
        // The ranks got the feedback of both analytics: the new one inherited the lost one's
        // (asked right after the last send, the newest values may not be set yet).
        var expected = first.Concat(second.Select(s => s.T).Where(t => t > first[^1])).ToArray();
        Assert.All(feedback, f =>
        {
            Assert.InRange(f.Length, first.Count + 1, expected.Length);
            Assert.Equal(expected[..f.Length], f);
        });
        Assert.Empty(Directory.GetFiles(_dir, "feedback-*.journal")); // the simulation ended: nothing left
    }
}
