using System.Collections.Concurrent;
using System.Numerics.Tensors;
using Deisa.Analytics;
using Deisa.Model;
using Deisa.SharedMemory;
using Deisa.Simulation;

namespace Deisa.Core.Tests;

/// <summary>
/// The C# doors in one process: an <see cref="AnalyticsHost"/> and real bridges (one thread per
/// rank) meeting through a rendezvous directory of their own, over the real socket and shared
/// memory. Checks what callbacks see, tensor sends in C and Fortran order, feedback, failures,
/// and that the run leaves no shared memory behind.
/// </summary>
public sealed class AnalyticsHostTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly RendezvousDirectory _dir = new("host");

    public void Dispose() => _dir.Dispose();

    private AnalyticsHost NewHost(int maxAhead = 1) => new(new AnalyticsOptions
    {
        RendezvousDirectory = _dir,
        Timeout = Limit,
        MaxSimulationAhead = maxAhead,
        PoolBytes = 8 << 20,
    });

    /// <summary>Runs <paramref name="body"/> for every rank on its own thread, as MPI ranks would; each bridge closes at the end.</summary>
    private Task RanksAsync(int world, Action<Bridge, int> body) =>
        Task.WhenAll(Enumerable.Range(0, world).Select(rank => Task.Factory.StartNew(() =>
        {
            using var bridge = Bridge.Open(new BridgeOptions(rank, world) { RendezvousDirectory = _dir, Timeout = Limit });
            body(bridge, rank);
        }, TaskCreationOptions.LongRunning)));

    /// <summary>
    /// Runs the host and the ranks together and waits for both; throws the host's error if it
    /// failed (the ranks' errors then are consequences), else the ranks' error if any.
    /// </summary>
    private static async Task RunBothAsync(AnalyticsHost host, Task ranks)
    {
        var run = host.RunAsync();
        try { await run.WaitAsync(Limit); }
        catch
        {
            try { await ranks.WaitAsync(Limit); }
            catch (Exception e) when (e is not TimeoutException) { Console.Error.WriteLine($"after the analytics failed, a rank failed too: {e.Message}"); }
            throw;
        }
        await ranks.WaitAsync(Limit);
    }

    private static void AssertNoSharedMemory(AnalyticsHost host)
    {
        var prefix = host.Info!.SegmentPrefix;
        var left = Directory.GetFiles(Segment.Directory, prefix + "*");
        Assert.True(left.Length == 0, $"shared memory left: {string.Join(", ", left)}");
    }

    [Fact]
    public async Task Spec_scenario_sums_means_and_window_of_two()
    {
        await using var host = NewHost();
        var seen = new List<(long T, int Sum, double Mean, int Length, int? Diff)>();
        var kept = new List<DistributedArray>();
        host.Register(inputs =>
        {
            var w = inputs["array"];
            var now = w.Newest;
            kept.Add(now);
            int? diff = null;
            if (w.Count == 2)
            {
                // Block by block with TensorPrimitives: both timesteps have the same layout.
                diff = 0;
                for (int b = 0; b < now.Blocks.Count; b++)
                {
                    var d = new int[now.Blocks[b].Length];
                    TensorPrimitives.Subtract(now.Blocks[b].AsSpan<int>(), w.Oldest.Blocks[b].AsSpan<int>(), d);
                    diff += TensorPrimitives.Sum<int>(d);
                }
            }
            // Arrays older than the window were given back.
            Assert.All(kept.Where(a => a.Timestep < now.Timestep - 1), a => Assert.True(a.IsReleased, a.ToString()));
            seen.Add((now.Timestep, now.Sum<int>(), now.Mean<int>(), w.Count, diff));
        }, CallbackOptions.FailFast, new WindowSpec("array", 2));

        var ranks = RanksAsync(2, (bridge, r) =>
        {
            bridge.DeclareArray("array", [1, 2], [1, 1], [0, r], DType.Int32);
            for (int t = 0; t < 5; t++) bridge.Send<int>("array", [t * (r + 1)], t);
            bridge.Close(5);
        });
        await RunBothAsync(host, ranks);

        Assert.Equal([0L, 1, 2, 3, 4], seen.Select(s => s.T));
        Assert.All(seen, s => Assert.Equal(3 * s.T, s.Sum));
        Assert.All(seen, s => Assert.Equal(1.5 * s.T, s.Mean));
        Assert.Equal([1, 2, 2, 2, 2], seen.Select(s => s.Length));
        Assert.Equal([null, 3, 3, 3, 3], seen.Select(s => s.Diff));
        Assert.Equal(5, host.TimestepsProcessed);
        Assert.All(kept, a => Assert.True(a.IsReleased));
        Assert.Throws<ObjectDisposedException>(() => kept[^1].Sum<int>());
        AssertNoSharedMemory(host);
    }

    /// <summary>Element (i, j) of the global 3x4 array at timestep t.</summary>
    private static int F(long t, long i, long j) => (int)(t * 1000 + i * 10 + j);

    [Fact]
    public async Task Tensor_sends_keep_the_simulations_index_order_in_C_and_Fortran()
    {
        await using var host = NewHost();
        var checkedArrays = new ConcurrentBag<string>();
        host.Register(inputs =>
        {
            foreach (var w in inputs)
            {
                var a = w.Newest;
                Assert.Equal([3L, 4L], a.GlobalShape);
                var all = a.ToArray<int>();
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 4; j++)
                    {
                        Assert.Equal(F(a.Timestep, i, j), all[i * 4 + j]);
                        Assert.Equal(F(a.Timestep, i, j), a.GetValue<int>(i, j));
                    }
                foreach (var b in a.Blocks)
                {
                    var view = b.AsTensorSpan<int>();
                    Assert.Equal(w.Name == "fortran" ? MemoryOrder.Fortran : MemoryOrder.C, b.Order);
                    if (w.Name == "fortran") Assert.Equal([1, 3], view.Strides.ToArray());
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 2; j++)
                            Assert.Equal(F(a.Timestep, i, b.Offset[1] + j), view[i, j]);
                }
                checkedArrays.Add($"{w.Name}@{a.Timestep}");
            }
        }, CallbackOptions.FailFast, new WindowSpec("fortran"), new WindowSpec("c"));

        var errors = new ConcurrentBag<string>();
        var ranks = RanksAsync(2, (bridge, r) =>
        {
            bridge.DeclareArray("fortran", [3, 4], [3, 2], [0, r], DType.Int32, MemoryOrder.Fortran);
            bridge.DeclareArray("c", [3, 4], [3, 2], [0, r], DType.Int32);
            for (int t = 0; t < 3; t++)
            {
                // A C-ordered 3x2 tensor sent to a Fortran array: copied in Fortran order.
                var block = new int[6];
                for (int i = 0; i < 3; i++) for (int j = 0; j < 2; j++) block[i * 2 + j] = F(t, i, 2 * r + j);
                if (r == 0)
                {
                    var wrong = Assert.Throws<DeisaException>(() => bridge.Send("fortran", new ReadOnlyTensorSpan<int>(block, [2, 3]), t));
                    errors.Add(wrong.Message);
                    bridge.Send("fortran", new ReadOnlyTensorSpan<int>(block, [3, 2]), t);
                }
                else
                {
                    // Zero-copy: write the Fortran buffer through its tensor view.
                    using var buffer = bridge.Acquire("fortran", t);
                    errors.Add(Assert.Throws<DeisaException>(() => buffer.AsTensorSpan<double>()).Message);
                    var view = buffer.AsTensorSpan<int>();
                    for (int i = 0; i < 3; i++) for (int j = 0; j < 2; j++) view[i, j] = F(t, i, 2 * r + j);
                    buffer.Commit();
                }
                // The interior of a field with a one-cell ghost frame: a strided slice, copied once.
                var framed = new int[5 * 4];
                for (int i = 0; i < 3; i++) for (int j = 0; j < 2; j++) framed[(i + 1) * 4 + j + 1] = F(t, i, 2 * r + j);
                var interior = new ReadOnlyTensorSpan<int>(framed, [5, 4]).Slice(1..4, 1..3);
                Assert.False(interior.IsDense);
                bridge.Send("c", interior, t);
            }
        });
        await RunBothAsync(host, ranks);

        Assert.Equal(6, checkedArrays.Count);
        Assert.Contains(errors, m => m.Contains("'fortran'") && m.Contains("(2, 3)") && m.Contains("(3, 2)"));
        Assert.Contains(errors, m => m.Contains("'fortran'") && m.Contains("int32 (int)") && m.Contains("float64 (double)"));
        AssertNoSharedMemory(host);
    }

    [Fact]
    public async Task Every_rank_reads_the_feedback_the_callbacks_set()
    {
        await using var host = NewHost();
        host.Register(inputs => host.Set("foo", inputs.Timestep * 10, inputs.Timestep), CallbackOptions.FailFast, new WindowSpec("array"));
        var answers = new ConcurrentDictionary<(int Rank, long T), long?>();
        var ranks = RanksAsync(2, (bridge, r) =>
        {
            bridge.DeclareArray("array", [2], [1], [r], DType.Float64);
            for (int t = 0; t < 4; t++)
            {
                bridge.Send<double>("array", [r], t);
                // send(t) returned: with max_simulation_ahead=1 the callbacks of t-1 have run.
                if (t > 0) answers[(r, t - 1)] = bridge.GetFeedback("foo", t - 1)?.Value is { } v && v.TryGetInt64(out var n) ? n : null;
            }
            answers[(r, 99)] = bridge.GetFeedback("foo", 99)?.Value is null ? null : -1;
            bridge.Close();
        });
        await RunBothAsync(host, ranks);

        for (int r = 0; r < 2; r++)
        {
            for (long t = 0; t < 3; t++) Assert.Equal(t * 10, answers[(r, t)]);
            Assert.Null(answers[(r, 99)]);
        }
        var late = await Assert.ThrowsAsync<DeisaException>(() => host.SetAsync("foo", 1.0, 100));
        Assert.Equal(DeisaStatus.State, late.Status);
    }

    [Fact]
    public async Task A_skipped_timestep_fails_the_run_after_the_earlier_callbacks()
    {
        await using var host = NewHost(maxAhead: 4);
        var ran = new List<long>();
        host.Register(inputs => ran.Add(inputs.Timestep), new WindowSpec("array"));
        var ranks = RanksAsync(2, (bridge, r) =>
        {
            bridge.DeclareArray("array", [1, 2], [1, 1], [0, r], DType.Int32);
            bridge.Send<int>("array", [1], 0);
            if (r == 0) bridge.Send<int>("array", [1], 1);
            bridge.Send<int>("array", [1], 2);
        });
        var e = await Assert.ThrowsAsync<DeisaException>(() => RunBothAsync(host, ranks));
        Assert.Equal(DeisaStatus.State, e.Status);
        Assert.Contains("logical flow", e.Message);
        Assert.Contains("'array'", e.Message);
        Assert.Contains("1", e.Message);
        Assert.Equal([0L], ran);
        AssertNoSharedMemory(host);
    }

    [Fact]
    public async Task A_callback_on_an_undeclared_array_fails_before_any_data_naming_both_lists()
    {
        await using var host = NewHost();
        host.Register(_ => { }, new WindowSpec("pressure"));
        var ranks = RanksAsync(1, (bridge, r) =>
        {
            bridge.DeclareArray("temperature", [2], [2], [0], DType.Float64);
            bridge.Connect();
        });
        var e = await Assert.ThrowsAsync<DeisaException>(() => RunBothAsync(host, ranks));
        Assert.Equal(DeisaStatus.Contract, e.Status);
        Assert.Contains("'pressure'", e.Message);
        Assert.Contains("'temperature'", e.Message);
    }

    [Fact]
    public async Task Callback_errors_are_logged_by_default_and_stop_the_run_with_FailFast()
    {
        await using var host = NewHost();
        var log = new StringWriter();
        host.Log = log;
        int calls = 0;
        host.Register(inputs => { calls++; throw new InvalidOperationException($"boom at {inputs.Timestep}"); }, new WindowSpec("array"));
        host.Register(inputs => inputs["array"].Newest.Sum<float>(), CallbackOptions.FailFast with { Name = "typed" }, new WindowSpec("array"));
        var ranks = RanksAsync(1, (bridge, r) =>
        {
            bridge.DeclareArray("array", [3], [3], [0], DType.Int32);
            bridge.Send<int>("array", [1, 2, 3], 0);
            bridge.Close();
        });
        var e = await Assert.ThrowsAsync<DeisaException>(() => RunBothAsync(host, ranks));
        // The first callback's error was logged and the run went on to the second, whose type error stopped it.
        Assert.Equal(1, calls);
        Assert.Contains("callback 0", log.ToString());
        Assert.Contains("boom at 0", log.ToString());
        Assert.Equal(DeisaStatus.Type, e.Status);
        Assert.Contains("'array' at timestep 0 is int32 (int), not float32 (float)", e.Message);
        AssertNoSharedMemory(host);
    }

    [Fact]
    public async Task Registration_errors_name_the_callback_and_the_array()
    {
        await using var host = NewHost();
        Assert.Contains("at least one input", Assert.Throws<DeisaException>(() => host.Register(_ => { })).Message);
        var twice = Assert.Throws<DeisaException>(() => host.Register(_ => { }, new WindowSpec("a"), new WindowSpec("a", 2)));
        Assert.Contains("['a']", twice.Message);
        var size = Assert.Throws<DeisaException>(() => host.Register(_ => { }, new CallbackOptions { Name = "w" }, new WindowSpec("a", 0)));
        Assert.Contains("callback 'w'", size.Message);
        Assert.Contains("'a'", size.Message);
        Assert.Equal(DeisaStatus.State, Assert.Throws<DeisaException>(() => host.Set("k", 1.0, 0)).Status);

        await host.StartAsync();
        Assert.True(File.Exists(Path.Combine(_dir, "analytics.json")));
        var late = Assert.Throws<DeisaException>(() => host.Register(_ => { }, new WindowSpec("b")));
        Assert.Equal(DeisaStatus.State, late.Status);
        await host.DisposeAsync();
        Assert.False(File.Exists(Path.Combine(_dir, "analytics.json")));
        Assert.Equal(DeisaStatus.State, (await Assert.ThrowsAsync<DeisaException>(() => host.RunAsync())).Status);
    }
}
