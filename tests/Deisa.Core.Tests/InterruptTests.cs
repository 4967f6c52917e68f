using Deisa.Analytics;
using Deisa.Model;
using Deisa.Simulation;

namespace Deisa.Core.Tests;

/// <summary>
/// <see cref="Bridge.Interrupt"/> (what Ctrl-C does to a rank waiting in a native call): the
/// wait in progress ends at once, whether the send was carried by the call or written into a
/// slot, the bridge is disconnected for good, and the analytics sees the rank gone.
/// </summary>
public sealed class InterruptTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly RendezvousDirectory _dir = new("interrupt");

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(8 * 1024)]                      // carried by the send call
    [InlineData(2 * Bridge.InlineBlockBytes)]   // acquired, written, committed
    public async Task A_send_held_by_back_pressure_ends_when_interrupted_and_the_analytics_sees_the_rank_gone(int n)
    {
        await using var host = new AnalyticsHost(new AnalyticsOptions
            { RendezvousDirectory = _dir, Timeout = Limit, MaxSimulationAhead = 1 });
        using var hold = new ManualResetEventSlim();
        host.Register(_ => hold.Wait(Limit), new WindowSpec("b"));
        var running = host.RunAsync();
        using var bridge = Bridge.Open(new BridgeOptions(0, 1) { RendezvousDirectory = _dir, Timeout = Limit });
        bridge.DeclareArray("b", [n], [n], [0], DType.UInt8);
        var block = new byte[n];
        long sent = -1;
        var held = Task.Factory.StartNew(() => // timestep 0 is held: a send soon waits for the analytics
        {
            for (long t = 0; t < 10; t++)
            {
                bridge.Send<byte>("b", block, t);
                Interlocked.Exchange(ref sent, t);
            }
        }, TaskCreationOptions.LongRunning);
        var until = DateTime.UtcNow + Limit;
        while (Interlocked.Read(ref sent) < 0 && !held.IsCompleted && DateTime.UtcNow < until) await Task.Delay(20);
        await Task.Delay(500);
        Assert.False(held.IsCompleted);
        Assert.InRange(Interlocked.Read(ref sent), 0, 1);

        var interrupted = DateTime.UtcNow;
        bridge.Interrupt();
        var e = await Assert.ThrowsAsync<DeisaException>(() => held.WaitAsync(Limit));
        Assert.True(DateTime.UtcNow - interrupted < TimeSpan.FromSeconds(5), "the send ended long after the interrupt");
        Assert.Equal(DeisaStatus.Interrupted, e.Status);
        Assert.Contains("rank 0", e.Message);
        Assert.Equal(DeisaStatus.Interrupted, Assert.Throws<DeisaException>(() => bridge.Send<byte>("b", block, 11)).Status);
        bridge.Close(); // nothing left to close: no error

        hold.Set();
        var failed = await Assert.ThrowsAsync<DeisaException>(() => running.WaitAsync(Limit));
        Assert.Contains("rank 0", failed.Message);
    }
}
