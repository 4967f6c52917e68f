using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Deisa.Analytics;
using Deisa.Model;
using Deisa.Simulation;
using Grpc.Core;
using Grpc.Net.Client;

namespace Deisa.Core.Tests;

/// <summary>
/// The node's Arrow Flight endpoint, read by Apache Arrow's Flight client while a real run goes
/// on (an analytics host and two bridges): what it lists, a whole timestep and one block read
/// in place, the token, and a timestep the run let go.
/// </summary>
public sealed class FlightTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly RendezvousDirectory _dir = new("flight");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_flight_client_reads_the_live_blocks_of_a_running_simulation()
    {
        const int world = 2, steps = 4;
        await using var host = new AnalyticsHost(new AnalyticsOptions { RendezvousDirectory = _dir, Timeout = Limit, PoolBytes = 8 << 20 });
        var atTwo = new TaskCompletionSource();
        var readDone = new TaskCompletionSource();
        host.Register(inputs =>
        {
            if (inputs.Timestep != 2) return;
            atTwo.SetResult();
            readDone.Task.Wait(Limit); // the run holds timesteps 1 and 2 (a window of 2) while the client reads
        }, new WindowSpec("field", 2));
        await host.StartAsync();
        await using var flight = await host.StartFlightAsync();
        Assert.StartsWith("grpc+tcp://127.0.0.1:", flight.Location);
        var ranks = Task.WhenAll(Enumerable.Range(0, world).Select(rank => Task.Factory.StartNew(() =>
        {
            using var bridge = Bridge.Open(new BridgeOptions(rank, world) { RendezvousDirectory = _dir, Timeout = Limit });
            bridge.DeclareArray("field", [world, 3], [1, 3], [rank, 0], DType.Float64);
            for (int t = 0; t < steps; t++) bridge.Send<double>("field", [rank * 100 + t, rank * 100 + t + 0.25, rank * 100 + t + 0.5], t);
            bridge.Close(steps);
        }, TaskCreationOptions.LongRunning)));
        var run = host.RunAsync();
        try
        {
            await atTwo.Task.WaitAsync(Limit);
            using var channel = GrpcChannel.ForAddress("http://" + flight.Location["grpc+tcp://".Length..]);
            var client = new FlightClient(channel);
            var auth = new Metadata { { "authorization", $"Bearer {host.Info!.Token}" } };

            // Without the token: refused.
            var refused = await Assert.ThrowsAsync<RpcException>(() => client.GetInfo(FlightDescriptor.CreatePathDescriptor("field", "2"), new Metadata()).ResponseAsync);
            Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);

            // What the run holds now: timesteps 1 and 2 of "field" (the window of 2).
            var listed = new List<FlightInfo>();
            using (var call = client.ListFlights(new FlightCriteria(), auth))
                while (await call.ResponseStream.MoveNext(default)) listed.Add(call.ResponseStream.Current);
            Assert.Equal(["field@1", "field@2"], listed.Select(i => string.Join("@", i.Descriptor.Paths)));
            var info = listed[1];
            Assert.Equal(world * 3 * 8, info.TotalBytes);
            Assert.Equal(("field", "2", "float64", "[2,3]", "[[1,1],[3]]"), (info.Schema.Metadata["array"], info.Schema.Metadata["timestep"],
                info.Schema.Metadata["dtype"], info.Schema.Metadata["global_shape"], info.Schema.Metadata["chunks"]));

            // The whole timestep: a batch per block, in the layout's order, with where it lies.
            var values = new List<double[]>();
            var placements = new List<string>();
            using (var stream = client.GetStream(info.Endpoints.Single().Ticket, auth))
            {
                while (await stream.ResponseStream.MoveNext(default))
                {
                    values.Add(((DoubleArray)stream.ResponseStream.Current.Column("values")).Values.ToArray());
                    placements.Add(string.Join("", stream.ResponseStream.ApplicationMetadata.Select(m => m.ToStringUtf8())));
                }
            }
            Assert.Equal([[2, 2.25, 2.5], [102, 102.25, 102.5]], values);
            Assert.Contains("\"position\":[1,0],\"offset\":[1,0]", placements[1]);
            Assert.Contains("\"rank\":1", placements[1]);

            // One block: its flight ([array, timestep, block]).
            var block = await client.GetInfo(FlightDescriptor.CreatePathDescriptor("field", "1", "1"), auth).ResponseAsync;
            Assert.Equal(3 * 8, block.TotalBytes);
            Assert.Empty(block.Endpoints.Single().Locations); // read here: the analytics' own node
            using (var one = client.GetStream(block.Endpoints.Single().Ticket, auth))
            {
                Assert.True(await one.ResponseStream.MoveNext(default));
                Assert.Equal([101, 101.25, 101.5], ((DoubleArray)one.ResponseStream.Current.Column("values")).Values.ToArray());
                Assert.False(await one.ResponseStream.MoveNext(default));
            }

            // A timestep the run let go (the window moved past it): not found, named.
            var gone = await Assert.ThrowsAsync<RpcException>(() => client.GetInfo(FlightDescriptor.CreatePathDescriptor("field", "0"), auth).ResponseAsync);
            Assert.Equal(StatusCode.NotFound, gone.StatusCode);
            Assert.Contains("'field' at timestep 0 is not held any more", gone.Status.Detail);
            var noBlock = await Assert.ThrowsAsync<RpcException>(() => client.GetInfo(FlightDescriptor.CreatePathDescriptor("field", "1", "2"), auth).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, noBlock.StatusCode);
            Assert.Contains("'field' has blocks 0 to 1, not 2", noBlock.Status.Detail);
            var bad = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                using var s = client.GetStream(new FlightTicket("not json"), auth);
                await s.ResponseStream.MoveNext(default);
            });
            Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        }
        finally { readDone.TrySetResult(); }
        await run.WaitAsync(Limit);
        await ranks.WaitAsync(Limit);
    }

    [Fact]
    public async Task Each_arrays_newest_timestep_stays_readable_between_timesteps_even_unread_by_callbacks()
    {
        await using var host = new AnalyticsHost(new AnalyticsOptions { RendezvousDirectory = _dir, Timeout = Limit });
        var atOne = new TaskCompletionSource();
        var atThree = new TaskCompletionSource();
        var gates = new[] { new ManualResetEventSlim(), new ManualResetEventSlim() };
        host.Register(inputs =>
        {
            if (inputs.Timestep == 1) atOne.SetResult();
            if (inputs.Timestep == 3) atThree.SetResult();
        }, new WindowSpec("field")); // a window of 1; 'energy' read by none
        await host.StartAsync();
        await using var flight = await host.StartFlightAsync();
        var rank = Task.Factory.StartNew(() =>
        {
            using var bridge = Bridge.Open(new BridgeOptions(0, 1) { RendezvousDirectory = _dir, Timeout = Limit });
            bridge.DeclareArray("field", [2], [2], [0], DType.Float64);
            bridge.DeclareArray("energy", [3], [3], [0], DType.Int64);
            for (int t = 0; t < 4; t++)
            {
                bridge.Send<double>("field", [t, -t], t);
                bridge.Send<long>("energy", [10L * t, 10L * t + 1, 10L * t + 2], t);
                if (t % 2 == 1) gates[t / 2].Wait(Limit); // the simulation computes on: nothing newer comes meanwhile
            }
            bridge.Close(4);
        }, TaskCreationOptions.LongRunning);
        var run = host.RunAsync();
        try
        {
            using var channel = GrpcChannel.ForAddress("http://" + flight.Location["grpc+tcp://".Length..]);
            var client = new FlightClient(channel);
            var auth = new Metadata { { "authorization", $"Bearer {host.Info!.Token}" } };
            async Task<List<string>> Listed()
            {
                var listed = new List<string>();
                using var call = client.ListFlights(new FlightCriteria(), auth);
                while (await call.ResponseStream.MoveNext(default)) listed.Add(string.Join("@", call.ResponseStream.Current.Descriptor.Paths));
                return listed;
            }
            async Task<long[]> Read(FlightTicket ticket)
            {
                using var stream = client.GetStream(ticket, auth);
                Assert.True(await stream.ResponseStream.MoveNext(default));
                Assert.Equal("int64", stream.ResponseStream.Current.Schema.Metadata["dtype"]);
                var values = ((Int64Array)stream.ResponseStream.Current.Column("values")).Values.ToArray();
                Assert.False(await stream.ResponseStream.MoveNext(default));
                return values;
            }

            // The callback runs once 'field' is complete; 'energy', sent after it, may still come.
            async Task ListedEventually(string[] expected)
            {
                var until = DateTime.UtcNow + Limit;
                List<string> listed;
                while (!(listed = await Listed()).SequenceEqual(expected) && DateTime.UtcNow < until) await Task.Delay(10);
                Assert.Equal(expected, listed);
            }

            await atOne.Task.WaitAsync(Limit);
            await ListedEventually(["energy@1", "field@1"]);
            var one = (await client.GetInfo(FlightDescriptor.CreatePathDescriptor("energy", "1"), auth).ResponseAsync).Endpoints.Single().Ticket;
            Assert.Equal(new long[] { 10, 11, 12 }, await Read(one));
            gates[0].Set();

            await atThree.Task.WaitAsync(Limit);
            await ListedEventually(["energy@3", "field@3"]); // the newer ones replaced them
            var three = (await client.GetInfo(FlightDescriptor.CreatePathDescriptor("energy", "3"), auth).ResponseAsync).Endpoints.Single().Ticket;
            Assert.Equal(new long[] { 30, 31, 32 }, await Read(three));
            var stale = await Assert.ThrowsAsync<RpcException>(() => Read(one)); // its blocks were let go: never another block's bytes
            Assert.Equal(StatusCode.NotFound, stale.StatusCode);
            Assert.Contains("'energy' at timestep 1 is not held any more", stale.Status.Detail);
        }
        finally { foreach (var g in gates) g.Set(); }
        await run.WaitAsync(Limit);
        await rank.WaitAsync(Limit);
        Assert.Empty(Directory.GetFiles(Segment.Directory, host.Info!.SegmentPrefix + "*"));
    }

    [Fact]
    public async Task Every_dtype_streams_its_exact_bytes_whatever_its_padding()
    {
        DType[] dtypes = [DType.Bool, DType.Int8, DType.Int16, DType.Int32, DType.UInt16, DType.Float32, DType.Float64, DType.Complex64, DType.Complex128];
        const int n = 7; // odd: most blocks need padding to 8 bytes in the IPC body
        byte[] Bytes(DType d) => Enumerable.Range(0, n * DTypes.ItemSize(d)).Select(i => (byte)(d == DType.Bool ? i % 2 : i * 37 + (int)d)).ToArray();
        await using var host = new AnalyticsHost(new AnalyticsOptions { RendezvousDirectory = _dir, Timeout = Limit });
        var seen = new TaskCompletionSource();
        var done = new ManualResetEventSlim();
        host.Register(inputs => { seen.TrySetResult(); done.Wait(Limit); }, new WindowSpec(dtypes[0].ToString()));
        await host.StartAsync();
        await using var flight = await host.StartFlightAsync();
        var rank = Task.Factory.StartNew(() =>
        {
            using var bridge = Bridge.Open(new BridgeOptions(0, 1) { RendezvousDirectory = _dir, Timeout = Limit });
            foreach (var d in dtypes) bridge.DeclareArray(d.ToString(), [n], [n], [0], d);
            foreach (var d in dtypes) bridge.Send(d.ToString(), Bytes(d), d, [n], MemoryOrder.C, 0);
            bridge.Close(1);
        }, TaskCreationOptions.LongRunning);
        var run = host.RunAsync();
        try
        {
            await seen.Task.WaitAsync(Limit);
            using var channel = GrpcChannel.ForAddress("http://" + flight.Location["grpc+tcp://".Length..]);
            var client = new FlightClient(channel);
            var auth = new Metadata { { "authorization", $"Bearer {host.Info!.Token}" } };
            foreach (var d in dtypes)
            {
                var info = await client.GetInfo(FlightDescriptor.CreatePathDescriptor(d.ToString(), "0"), auth).ResponseAsync;
                using var stream = client.GetStream(info.Endpoints.Single().Ticket, auth);
                Assert.True(await stream.ResponseStream.MoveNext(default), d.ToString());
                var batch = stream.ResponseStream.Current;
                Assert.Equal(n, batch.Length);
                Assert.Equal(DTypes.NumpyName(d), batch.Schema.Metadata["dtype"]);
                var values = ((Apache.Arrow.Array)batch.Column("values")).Data.Buffers[1].Span[..(n * DTypes.ItemSize(d))].ToArray();
                Assert.Equal(Bytes(d), values);
                Assert.False(await stream.ResponseStream.MoveNext(default));
            }
        }
        finally { done.Set(); }
        await run.WaitAsync(Limit);
        await rank.WaitAsync(Limit);
    }
}
