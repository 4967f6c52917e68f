using System.Net;
using System.Net.Http.Headers;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Deisa.Analytics;
using Deisa.Dashboard;
using Deisa.Engine.Head;
using Deisa.Engine.Messages;
using Deisa.Model;
using Deisa.Simulation;

namespace Deisa.Core.Tests;

/// <summary>
/// The live dashboard: its tables read back with Apache Arrow's reader, what its server lets
/// through (the token, loopback hosts, GET only), and a real run (an analytics host and real
/// bridges) seen through its HTTP tables while it runs and as it ended.
/// </summary>
public sealed class DashboardTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly RendezvousDirectory _dir = new("dash");

    public void Dispose() => _dir.Dispose();

    private static RecordBatch Read(byte[] ipc)
    {
        using var reader = new ArrowStreamReader(new MemoryStream(ipc));
        return reader.ReadNextRecordBatch();
    }

    private static Schema SchemaOf(byte[] ipc)
    {
        using var reader = new ArrowStreamReader(new MemoryStream(ipc));
        return reader.Schema;
    }

    private static string? Text(RecordBatch b, string column, int row = 0) => ((StringArray)b.Column(column)).GetString(row);
    private static long? Int(RecordBatch b, string column, int row = 0) => ((Int64Array)b.Column(column)).GetValue(row);
    private static double Real(RecordBatch b, string column, int row = 0) => ((DoubleArray)b.Column(column)).GetValue(row)!.Value;

    private static DashboardSnapshot Snapshot(RunActivity activity, string? ended = null) => new("s1", new RunStatus(
        WorldSize: 4, ConnectedRanks: [0, 1, 2, 3], ClosedRanks: [3], LostRanks: [2],
        Arrays: [new ArrayStatus("temperature", [4, 6], [[2, 2], [3, 3]], "float64", 7)],
        LastProcessed: 5, PendingTimesteps: 2, MaxSimulationAhead: 3,
        Pool: new PoolUsage(1 << 20, 1 << 19, 1 << 10, 1, 4, 0)), activity.Snapshot(), ended);

    [Fact]
    public void Tables_read_back_with_arrows_reader()
    {
        var activity = new RunActivity();
        activity.CallbackRan("watch", 0, 0.25, null);
        activity.TimestepProcessed(0);
        activity.CallbackRan("watch", 1, 0.5, "ValueError: too hot");
        activity.TimestepProcessed(1);
        activity.FeedbackSet("cooling", 1, FeedbackValue.Of(0.5).Describe());
        Assert.True(activity.Picture(new ArrayPicture("temperature", 1, 2, 3, [1, 2, 3, 4, 5, 6], "[:, :]")));
        Assert.True(activity.Reduction("temperature", new ReductionPoint(1, 3.5, 1, 6)));
        var s = Snapshot(activity);

        var run = Read(DashboardTables.Write("run", null, s)!);
        Assert.Equal(1, run.Length);
        Assert.Equal("running", Text(run, "state"));
        Assert.Equal(4, Int(run, "world_size"));
        Assert.Equal(4, Int(run, "ranks_registered"));
        Assert.Equal(2, Int(run, "ranks_connected")); // neither the closed nor the lost one
        Assert.Equal(2, Int(run, "timesteps_processed"));
        Assert.Equal(7, Int(run, "newest_received"));
        Assert.Equal(2, Int(run, "ahead")); // 7 received, 5 processed
        Assert.Equal(1 << 10, Int(run, "pool_in_use"));
        Assert.Equal(2, Int(run, "errors")); // the callback's and the lost rank's
        Assert.Equal(0.75, Real(run, "callback_seconds"), 9);

        var ranks = Read(DashboardTables.Write("ranks", null, s)!);
        Assert.Equal(["connected", "connected", "lost", "closed"], Enumerable.Range(0, 4).Select(i => Text(ranks, "state", i)));

        var arrays = Read(DashboardTables.Write("arrays", null, s)!);
        Assert.Equal("4 × 6", Text(arrays, "shape"));
        Assert.Equal(4, Int(arrays, "blocks"));
        Assert.Equal("2×2 × 2×3", Text(arrays, "chunks"));

        var callbacks = Read(DashboardTables.Write("callbacks", null, s)!);
        Assert.Equal((2L, 1L), (Int(callbacks, "runs")!.Value, Int(callbacks, "failures")!.Value));
        Assert.Equal(375.0, Real(callbacks, "mean_ms"), 9);

        var timesteps = Read(DashboardTables.Write("timesteps", null, s)!);
        Assert.Equal([0.25, 0.5], Enumerable.Range(0, 2).Select(i => Real(timesteps, "callback_seconds", i)));

        var errors = Read(DashboardTables.Write("errors", null, s)!);
        Assert.Equal("ValueError: too hot", Text(errors, "message"));
        Assert.Equal("callback watch", Text(errors, "source"));
        Assert.Equal("rank 2", Text(errors, "source", 1));

        Assert.Equal("0.5", Text(Read(DashboardTables.Write("feedback", null, s)!), "value"));

        var pictureIpc = DashboardTables.Write("picture", "temperature", s)!;
        var meta = SchemaOf(pictureIpc).Metadata;
        Assert.Equal(("2", "3", "1"), (meta["rows"], meta["columns"], meta["timestep"]));
        var picture = Read(pictureIpc);
        Assert.Equal([1.0, 2, 3, 4, 5, 6], ((DoubleArray)picture.Column("value")).Values.ToArray());
        Assert.Equal(0, Read(DashboardTables.Write("picture", "pressure", s)!).Length); // no picture of it

        var reductions = Read(DashboardTables.Write("reductions", "temperature", s)!);
        Assert.Equal((1L, 3.5, 6.0), (Int(reductions, "timestep")!.Value, Real(reductions, "mean"), Real(reductions, "max")));

        Assert.Null(DashboardTables.Write("nothing", null, s));
        Assert.Equal("ended: the analytics has finished", Text(Read(DashboardTables.Write("run", null, Snapshot(activity, "the analytics has finished"))!), "state"));
    }

    [Fact]
    public void Activity_keeps_the_newest_rows_and_a_bounded_number_of_arrays()
    {
        var activity = new RunActivity();
        for (int t = 0; t < RunActivity.MaxRows + 10; t++)
        {
            activity.CallbackRan("cb", t, 0.001, $"boom at {t}");
            activity.TimestepProcessed(t);
        }
        var s = activity.Snapshot();
        Assert.Equal(RunActivity.MaxRows + 10, s.TimestepsProcessed);
        Assert.Equal(RunActivity.MaxRows, s.Timesteps.Count);
        Assert.Equal(10, s.Timesteps[0].Timestep); // the oldest went
        Assert.Equal(RunActivity.MaxRows, s.Errors.Count);
        Assert.Equal("boom at 10", s.Errors[0].Message);
        Assert.Equal(RunActivity.MaxRows + 10, s.Callbacks.Single().Runs);
        for (int a = 0; a < RunActivity.MaxArrays; a++) Assert.True(activity.Reduction($"a{a}", new ReductionPoint(0, 0, 0, 0)));
        Assert.False(activity.Reduction("one too many", new ReductionPoint(0, 0, 0, 0)));
        Assert.True(activity.Reduction("a0", new ReductionPoint(1, 0, 0, 0))); // a known array still gets points
    }

    /// <summary>The tables of one snapshot (a unit test of the server alone).</summary>
    private static RunTables FixedSource(DashboardSnapshot snapshot) => new("the-token", _ => Task.FromResult(snapshot));

    private static HttpClient Client(DashboardServer server, bool followRedirects = false) =>
        new(new HttpClientHandler { AllowAutoRedirect = followRedirects, UseCookies = followRedirects })
        { BaseAddress = new Uri(server.Address), Timeout = Limit };

    [Fact]
    public async Task The_server_lets_in_only_the_token_on_loopback_and_only_to_read()
    {
        await using var server = await DashboardServer.StartAsync("127.0.0.1:0", FixedSource(Snapshot(new RunActivity())));
        Assert.StartsWith("http://127.0.0.1:", server.Address);
        Assert.Equal($"{server.Address}/?token=the-token", server.Url);
        using var anonymous = Client(server);

        var refused = await anonymous.GetAsync("/api/run");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("session token", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/?token=not-the-token")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/assets/dashboard.js")).StatusCode);

        // The URL's token becomes an HTTP-only same-site cookie, and leaves the address.
        var entry = await anonymous.GetAsync("/?token=the-token");
        Assert.Equal(HttpStatusCode.Redirect, entry.StatusCode);
        Assert.Equal("/", entry.Headers.Location!.OriginalString);
        var cookie = Assert.Single(entry.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        using (var browser = Client(server, followRedirects: true))
        {
            var page = await browser.GetAsync(server.Url);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("deisa dashboard", await page.Content.ReadAsStringAsync());
            Assert.Equal("/", page.RequestMessage!.RequestUri!.AbsolutePath);
            var arrow = await browser.GetAsync("/assets/arrow.es2015.min.js");
            Assert.Equal(HttpStatusCode.OK, arrow.StatusCode);
            Assert.Contains("tableFromIPC", await arrow.Content.ReadAsStringAsync());
        }

        using var bearer = Client(server);
        bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "the-token");
        var run = await bearer.GetAsync("/api/run");
        Assert.Equal("application/vnd.apache.arrow.stream", run.Content.Headers.ContentType!.MediaType);
        Assert.Equal("s1", Text(Read(await run.Content.ReadAsByteArrayAsync()), "session"));
        var missing = await bearer.GetAsync("/api/nothing");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("the tables are run, ranks", await missing.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await bearer.GetAsync("/assets/..%2FDeisa.Core.dll")).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await bearer.PostAsync("/api/run", new StringContent(""))).StatusCode);

        // A name that only resolves to loopback (DNS rebinding) is refused, token or not.
        var rebound = new HttpRequestMessage(HttpMethod.Get, "/api/run");
        rebound.Headers.Host = "attacker.example";
        Assert.Equal(HttpStatusCode.Forbidden, (await bearer.SendAsync(rebound)).StatusCode);
    }

    [Fact]
    public async Task A_bad_address_is_named()
    {
        var source = FixedSource(Snapshot(new RunActivity()));
        var e = await Assert.ThrowsAsync<DeisaException>(() => DashboardServer.StartAsync("unix:/tmp/x.sock", source));
        Assert.Contains("'unix:/tmp/x.sock' must be 'host:port'", e.Message);
        await using var first = await DashboardServer.StartAsync("127.0.0.1:0", source);
        var port = new Uri(first.Address).Port;
        var taken = await Assert.ThrowsAsync<DeisaException>(() => DashboardServer.StartAsync($"127.0.0.1:{port}", source));
        Assert.Contains($"cannot serve the dashboard on 127.0.0.1:{port}", taken.Message);
    }

    [Fact]
    public async Task A_run_shows_live_and_as_it_ended()
    {
        const int world = 2, steps = 6;
        await using var host = new AnalyticsHost(new AnalyticsOptions { RendezvousDirectory = _dir, Timeout = Limit, PoolBytes = 8 << 20 })
        {
            Log = TextWriter.Null,
        };
        host.Register(inputs =>
        {
            host.Set("cooling", inputs.Timestep * 0.5, inputs.Timestep);
            if (inputs.Timestep == 3) throw new InvalidOperationException("too hot at 3");
        }, new WindowSpec("temperature"));
        await host.StartAsync();
        await using var dashboard = await host.StartDashboardAsync();
        using var client = Client(dashboard);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", host.Info!.Token);
        async Task<RecordBatch> Table(string name) => Read(await client.GetByteArrayAsync($"/api/{name}"));

        Assert.Equal("waiting for the simulation", Text(await Table("run"), "state"));

        // Another process's view (deisa dashboard): the same tables through the run's control server.
        await using var remote = await DashboardServer.StartAsync("127.0.0.1:0", new RemoteRunTables(host.Info!), ownsSource: true);
        using var remoteClient = Client(remote);
        remoteClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", host.Info!.Token);
        var remoteRun = Read(await remoteClient.GetByteArrayAsync("/api/run"));
        Assert.Equal(("waiting for the simulation", host.Info!.Session), (Text(remoteRun, "state"), Text(remoteRun, "session")));
        var missing = await remoteClient.GetAsync("/api/nothing");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("no table 'nothing'", await missing.Content.ReadAsStringAsync());
        var ranks = Task.WhenAll(Enumerable.Range(0, world).Select(rank => Task.Factory.StartNew(() =>
        {
            using var bridge = Bridge.Open(new BridgeOptions(rank, world) { RendezvousDirectory = _dir, Timeout = Limit });
            bridge.DeclareArray("temperature", [world, 2], [1, 2], [rank, 0], DType.Float64);
            for (int t = 0; t < steps; t++) bridge.Send<double>("temperature", [rank, t], t);
            bridge.Close(steps);
        }, TaskCreationOptions.LongRunning)));
        await host.RunAsync().WaitAsync(Limit);
        await ranks.WaitAsync(Limit);

        var run = await Table("run");
        Assert.Equal("ended: the analytics has finished", Text(run, "state"));
        Assert.Equal(steps, Int(run, "timesteps_processed"));
        Assert.Equal(steps - 1, Int(run, "last_processed"));
        Assert.Equal(world, Int(run, "world_size"));
        Assert.Equal(world, Int(run, "ranks_closed"));
        var callbacks = await Table("callbacks");
        Assert.Equal((long)steps, Int(callbacks, "runs"));
        Assert.Equal(1, Int(callbacks, "failures"));
        var errors = await Table("errors");
        Assert.Equal("InvalidOperationException: too hot at 3", Text(errors, "message"));
        Assert.Equal(3, Int(errors, "timestep"));
        var feedback = await Table("feedback");
        Assert.Equal(("cooling", steps - 1L, "2.5"), (Text(feedback, "key"), Int(feedback, "timestep")!.Value, Text(feedback, "value")));
        var arrays = await Table("arrays");
        Assert.Equal(("temperature", "float64", "2 × 2", "2×1 × 1×2"), (Text(arrays, "name"), Text(arrays, "dtype"), Text(arrays, "shape"), Text(arrays, "chunks")));
        Assert.Equal(steps, (await Table("timesteps")).Length);

        // The run's process ended its run: the other process's dashboard says so.
        var gone = await remoteClient.GetAsync("/api/run");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, gone.StatusCode);
        Assert.Contains("cannot", await gone.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_failed_run_says_why_on_its_dashboard()
    {
        const int world = 2;
        await using var host = new AnalyticsHost(new AnalyticsOptions { RendezvousDirectory = _dir, Timeout = Limit, PoolBytes = 8 << 20 })
        {
            Log = TextWriter.Null,
        };
        host.Register(_ => { }, new WindowSpec("temperature"));
        await host.StartAsync();
        await using var dashboard = await host.StartDashboardAsync();
        using var client = Client(dashboard);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", host.Info!.Token);
        var ranks = Task.WhenAll(Enumerable.Range(0, world).Select(rank => Task.Factory.StartNew(() =>
        {
            using var bridge = Bridge.Open(new BridgeOptions(rank, world) { RendezvousDirectory = _dir, Timeout = Limit });
            bridge.DeclareArray("temperature", [world], [1], [rank], DType.Float64);
            foreach (var t in rank == 1 ? new long[] { 0, 2 } : [0, 1, 2]) bridge.Send<double>("temperature", [t], t); // rank 1 skips timestep 1
            try { bridge.Close(3); } catch (DeisaException) { }
        }, TaskCreationOptions.LongRunning)));
        var failed = await Assert.ThrowsAsync<DeisaException>(() => host.RunAsync().WaitAsync(Limit));
        try { await ranks.WaitAsync(Limit); } catch (DeisaException) { } // the ranks see the analytics end

        var run = Read(await client.GetByteArrayAsync("/api/run"));
        Assert.Equal($"ended: {failed.Message}", Text(run, "state"));
        Assert.Contains("logical flow", Text(run, "state"));
        var errors = Read(await client.GetByteArrayAsync("/api/errors"));
        var last = errors.Length - 1;
        Assert.Equal(("run", failed.Message), (Text(errors, "source", last), Text(errors, "message", last)));
    }
}
