using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Grpc.Core;
using Grpc.Net.Client;

namespace Deisa.Processes.Tests;

/// <summary>
/// Arrow Flight through the Python door: a Python analytics (the package and its libdeisa.so
/// from .venv) serving <c>Deisa(flight=True)</c>, the example heat simulation on 4 ranks, and
/// Apache Arrow's C# Flight client reading a timestep while the run goes on.
/// </summary>
public sealed class FlightTests
{
    private const string Analytics = """
        import contextlib, json, os, sys, time
        from deisa import Deisa, Window


        def watch_until_read(d, k):
            @d.register(Window("temperature"))
            def watch(temperature):
                now = temperature[-1]
                if now.t != k:
                    return
                field = now.compute()
                print(json.dumps({"location": d.flight.location, "token": d.flight.token,
                                  "sum": float(field.sum()), "corner": float(field[0, 0]),
                                  "last": float(field[-1, -1])}), flush=True)
                deadline = time.monotonic() + 60  # the test reads meanwhile, then says so
                while not os.path.exists("flight-read") and time.monotonic() < deadline:
                    time.sleep(0.02)

            d.execute_callbacks()


        if __name__ == "__main__":  # the cluster's worker processes import this file
            k, cluster = int(sys.argv[1]), sys.argv[2] == "cluster"
            with contextlib.ExitStack() as stack:
                scheduler = None
                if cluster:  # one Dask worker: its node service holds the blocks and serves them
                    import distributed

                    c = stack.enter_context(distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                                                     dashboard_address=None))
                    scheduler = stack.enter_context(distributed.Client(c))
                d = Deisa(flight=True, timeout=60, scheduler=scheduler)
                watch_until_read(d, k)
            print("analytics: done, flight", repr(d.flight), flush=True)
        """;

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // on a Dask cluster: the blocks are read at the endpoint of the node that holds them
    public async Task A_flight_client_reads_what_a_python_analytics_serves_while_the_simulation_runs(bool cluster)
    {
        const int steps = 12, size = 32, k = 6;
        using var dir = new RunDirectory();
        var python = Path.Combine(Programs.Repository, ".venv", "bin", "python");
        Assert.True(File.Exists(python), $"{python}: run scripts/setup.sh first (the test command does)");
        File.WriteAllText(Path.Combine(dir.Path, "analytics.py"), Analytics);
        var analytics = dir.Start("analytics", python, ["analytics.py", $"{k}", cluster ? "cluster" : "single"]);
        var ranks = dir.Ranks(Programs.HeatSimulation, 4, "--steps", $"{steps}", "--size", $"{size}", "--timeout", "60");

        // The callback at timestep k prints what it computed, then waits for the client.
        JsonElement seen = default;
        var until = DateTime.UtcNow + RunDirectory.Limit;
        while (analytics.Lines.FirstOrDefault(l => l.StartsWith("{\"location\"")) is not { } line)
        {
            Assert.True(DateTime.UtcNow < until, $"the analytics printed no location: {analytics.Output}");
            Assert.False(analytics.HasExited, $"the analytics ended: {analytics.Output}");
            await Task.Delay(50);
        }
        seen = JsonDocument.Parse(analytics.Lines.First(l => l.StartsWith("{\"location\""))).RootElement;
        var location = seen.GetProperty("location").GetString()!;
        Assert.StartsWith("grpc+tcp://127.0.0.1:", location);

        using var channel = GrpcChannel.ForAddress("http://" + location["grpc+tcp://".Length..]);
        var client = new FlightClient(channel);
        var auth = new Metadata { { "authorization", $"Bearer {seen.GetProperty("token").GetString()}" } };
        var listed = new List<FlightInfo>();
        using (var call = client.ListFlights(new FlightCriteria(), auth))
            while (await call.ResponseStream.MoveNext(default)) listed.Add(call.ResponseStream.Current);
        // Timestep k (its window holds it), and maybe k+1: one timestep ahead is allowed.
        var names = listed.Select(i => string.Join("@", i.Descriptor.Paths)).ToList();
        Assert.Contains($"temperature@{k}", names);
        Assert.All(names, n => Assert.True(n == $"temperature@{k}" || n == $"temperature@{k + 1}", string.Join(", ", names)));
        var info = listed.Single(i => i.Descriptor.Paths.Last() == $"{k}");
        Assert.Equal(("float64", $"[{size},{size}]"), (info.Schema.Metadata["dtype"], info.Schema.Metadata["global_shape"]));

        // The whole timestep: 4 blocks, which put together give what the callback computed. On
        // a cluster they lie on the worker's node, whose own endpoint streams them.
        var endpoint = info.Endpoints.Single();
        if (cluster)
        {
            var there = Assert.Single(endpoint.Locations).Uri;
            Assert.StartsWith("grpc+tcp://127.0.0.1:", there);
            Assert.NotEqual(location, there);
            var wrong = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                using var s = client.GetStream(endpoint.Ticket, auth); // the analytics' endpoint does not hold them
                await s.ResponseStream.MoveNext(default);
            });
            Assert.Contains("lies on node 1", wrong.Status.Detail);
        }
        else Assert.Empty(endpoint.Locations); // read where the flight was asked for
        using var blockChannel = cluster ? GrpcChannel.ForAddress("http://" + endpoint.Locations.First().Uri["grpc+tcp://".Length..]) : channel;
        var blockClient = new FlightClient(blockChannel);
        var field = new double[size, size];
        int blocks = 0;
        using (var stream = blockClient.GetStream(endpoint.Ticket, auth))
        {
            while (await stream.ResponseStream.MoveNext(default))
            {
                blocks++;
                var meta = string.Concat(stream.ResponseStream.ApplicationMetadata.Select(m => m.ToStringUtf8()));
                var place = JsonDocument.Parse(meta).RootElement;
                var at = place.GetProperty("offset").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                var shape = place.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                Assert.Equal("C", place.GetProperty("order").GetString());
                Assert.Equal(at.Select(o => o / (size / 2)), place.GetProperty("position").EnumerateArray().Select(e => e.GetInt64())); // a 2 x 2 grid
                var values = ((DoubleArray)stream.ResponseStream.Current.Column("values")).Values;
                Assert.Equal(shape[0] * shape[1], values.Length);
                for (long i = 0; i < shape[0]; i++)
                    for (long j = 0; j < shape[1]; j++) field[at[0] + i, at[1] + j] = values[(int)(i * shape[1] + j)];
            }
        }
        File.WriteAllText(Path.Combine(dir.Path, "flight-read"), "");

        Assert.Equal(4, blocks);
        double sum = 0;
        foreach (var v in field) sum += v;
        Assert.Equal(seen.GetProperty("sum").GetDouble(), sum, 1e-9 * Math.Max(1, Math.Abs(sum)));
        Assert.Equal(seen.GetProperty("corner").GetDouble(), field[0, 0]);
        Assert.Equal(seen.GetProperty("last").GetDouble(), field[size - 1, size - 1]);

        foreach (var r in ranks) await r.SucceedsAsync(RunDirectory.Limit);
        await analytics.SucceedsAsync(RunDirectory.Limit);
        Assert.Contains("analytics: done, flight Flight(closed)", analytics.Output); // stopped with the run
    }
}
