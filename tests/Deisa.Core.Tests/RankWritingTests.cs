using Deisa.Analytics;
using Deisa.Model;
using Deisa.Simulation;

namespace Deisa.Core.Tests;

/// <summary>
/// While a rank writes a granted slot, the thread serving its block channel is SCHED_BATCH, so
/// the commit that wakes it cannot preempt the rank; serving requests, it is ordinary again.
/// </summary>
[Collection(nameof(RankWritingTests))]
public sealed class RankWritingTests : IDisposable
{
    private const int SchedOther = 0, SchedBatch = 3;
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly RendezvousDirectory _dir = new("writing");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_serving_thread_yields_to_the_rank_between_acquire_and_commit()
    {
        const int n = 1 << 20; // above the inline limit: acquire, write, commit
        await using var host = new AnalyticsHost(new AnalyticsOptions { RendezvousDirectory = _dir, Timeout = Limit, PoolBytes = 8 << 20 });
        var seen = new List<long>();
        host.Register(inputs => seen.Add(inputs["b"].Newest.Timestep), new WindowSpec("b"));
        var running = host.RunAsync();

        var before = ServingThreads();
        using var bridge = Bridge.Open(new BridgeOptions(0, 1) { RendezvousDirectory = _dir, Timeout = Limit });
        bridge.DeclareArray("b", [n], [n], [0], DType.UInt8);
        bridge.Connect();
        var ours = ServingThreads().Except(before).ToList();
        Assert.Single(ours);
        int tid = ours[0];
        Assert.Equal(SchedOther, Policy(tid));

        // t = 0 is acquired with a call, the next ones in the slot granted ahead along: either
        // way the thread yields while the rank writes.
        for (long t = 0; t < 3; t++)
        {
            using var buffer = bridge.Acquire("b", t);
            // The reply is sent before the policy changes: wait for the change, then check it holds.
            Assert.True(await Eventually(() => Policy(tid) == SchedBatch), $"timestep {t}: the serving thread stayed ordinary while the rank writes");
            Fill(buffer.Address, n, (byte)(t + 1));
            Assert.Equal(SchedBatch, Policy(tid));
            buffer.Commit();
            await Task.Delay(50); // the analytics keeps up: the next slot ahead comes
        }
        Assert.True(bridge.AheadBlocks >= 1, "no block was written in a slot granted ahead");
        bridge.Close();
        await running.WaitAsync(Limit);
        Assert.Equal([0L, 1L, 2L], seen);
    }

    private static unsafe void Fill(nint address, int n, byte value) => new Span<byte>((void*)address, n).Fill(value);

    /// <summary>Runs alone: other tests' block channels would be serving threads of this process too.</summary>
    [CollectionDefinition(nameof(RankWritingTests), DisableParallelization = true)]
    public sealed class Alone;

    /// <summary>Threads of this process that serve a block channel (names are cut to 15 bytes).</summary>
    private static HashSet<int> ServingThreads() =>
        Directory.GetDirectories("/proc/self/task")
            .Select(d => (Tid: int.Parse(Path.GetFileName(d)), Name: ReadOrEmpty(Path.Combine(d, "comm")).Trim()))
            .Where(x => x.Name == "deisa block cha")
            .Select(x => x.Tid).ToHashSet();

    /// <summary>The scheduling policy of a thread: field 41 of /proc/self/task/TID/stat.</summary>
    private static int Policy(int tid)
    {
        var stat = File.ReadAllText($"/proc/self/task/{tid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[41 - 3]);
    }

    private static string ReadOrEmpty(string path)
    {
        try { return File.ReadAllText(path); } catch (IOException) { return ""; }
    }

    private static async Task<bool> Eventually(Func<bool> condition)
    {
        var until = DateTime.UtcNow + Limit;
        while (DateTime.UtcNow < until)
        {
            if (condition()) return true;
            await Task.Delay(1);
        }
        return condition();
    }
}
