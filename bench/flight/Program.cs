// Figure 12: a live timestep read over Arrow Flight from deisa's endpoint, against the same
// bytes streamed by Apache Arrow's own C# Flight server (a FlightServer whose DoGet writes a
// record batch over native memory, in this process), read by the same client; memcpy of the
// same bytes for scale. Reads alternate; prints one JSON line.
//   dotnet run -c Release -- --mib 64 --reads 8 --pairs 3
using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Apache.Arrow.Flight.Server;
using Apache.Arrow.Types;
using Deisa.Analytics;
using Deisa.Model;
using Deisa.Simulation;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

int Arg(string name, int fallback) => args.SkipWhile(a => a != name).Skip(1).Select(int.Parse).DefaultIfEmpty(fallback).First();
int mib = Arg("--mib", 64), reads = Arg("--reads", 8), pairs = Arg("--pairs", 3);
long nbytes = (long)mib << 20;
int n = (int)(nbytes / 8);

var dir = Directory.CreateTempSubdirectory("deisa-bench-flight-");
try
{
    await using var host = new AnalyticsHost(new AnalyticsOptions { RendezvousDirectory = dir.FullName, Timeout = TimeSpan.FromSeconds(120), PoolBytes = 4 * nbytes });
    var held = new TaskCompletionSource();
    var gate = new ManualResetEventSlim();
    host.Register(_ => { held.TrySetResult(); gate.Wait(TimeSpan.FromMinutes(5)); }, new WindowSpec("field")); // t = 0 held while read
    await host.StartAsync();
    await using var flight = await host.StartFlightAsync();
    var values = Enumerable.Range(0, n).Select(i => i * 0.5).ToArray();
    var rank = Task.Factory.StartNew(() =>
    {
        using var bridge = Bridge.Open(new BridgeOptions(0, 1) { RendezvousDirectory = dir.FullName, Timeout = TimeSpan.FromSeconds(120) });
        bridge.DeclareArray("field", [n], [n], [0], DType.Float64);
        bridge.Send<double>("field", values, 0);
        bridge.Close(1);
    }, TaskCreationOptions.LongRunning);
    var run = host.RunAsync();
    await held.Task.WaitAsync(TimeSpan.FromMinutes(2));

    // The reference: Arrow's Flight server streaming a batch over the same bytes in native memory.
    unsafe
    {
        var reference = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)nbytes, 64);
        values.AsSpan().CopyTo(new Span<double>(reference, n));
        ReferenceServer.Address = (nint)reference;
    }
    ReferenceServer.NBytes = nbytes;
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.ClearProviders();
    builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
    builder.Services.AddGrpc(o => o.MaxSendMessageSize = null);
    builder.Services.AddSingleton<FlightServer>(new ReferenceServer());
    await using var app = builder.Build();
    app.MapFlightEndpoint();
    await app.StartAsync();
    var refAddress = app.Urls.First();

    // The client's HTTP/2 window large enough not to be what limits the stream (the default starts at 64 KiB).
    var options = new GrpcChannelOptions { MaxReceiveMessageSize = null, HttpHandler = new SocketsHttpHandler { InitialHttp2StreamWindowSize = 16 << 20 } };
    using var deisaChannel = GrpcChannel.ForAddress("http://" + flight.Location["grpc+tcp://".Length..], options);
    using var refChannel = GrpcChannel.ForAddress(refAddress, options);
    var deisaClient = new FlightClient(deisaChannel);
    var refClient = new FlightClient(refChannel);
    var auth = new Metadata { { "authorization", $"Bearer {host.Info!.Token}" } };
    var ticket = (await deisaClient.GetInfo(FlightDescriptor.CreatePathDescriptor("field", "0"), auth).ResponseAsync).Endpoints.Single().Ticket;

    async Task<double> ReadAll(FlightClient client, FlightTicket t, Metadata headers)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < reads; i++)
        {
            using var stream = client.GetStream(t, headers);
            long got = 0;
            double check = 0;
            while (await stream.ResponseStream.MoveNext(default))
            {
                var column = (DoubleArray)stream.ResponseStream.Current.Column("values");
                got += column.Length;
                check += column.GetValue(column.Length - 1) ?? 0;
            }
            if (got != n || check != values[^1]) throw new InvalidDataException($"read {got} values ending {check}");
        }
        return reads * (double)nbytes / clock.Elapsed.TotalSeconds / 1e9;
    }

    await ReadAll(deisaClient, ticket, auth); // warm up both paths
    await ReadAll(refClient, new FlightTicket("field"), new Metadata());
    var deisa = new List<double>();
    var arrow = new List<double>();
    for (int p = 0; p < pairs; p++)
    {
        deisa.Add(await ReadAll(deisaClient, ticket, auth));
        arrow.Add(await ReadAll(refClient, new FlightTicket("field"), new Metadata()));
    }
    var destination = new byte[nbytes];
    var source = new byte[nbytes];
    var copy = Stopwatch.StartNew();
    for (int i = 0; i < reads; i++) source.AsSpan().CopyTo(destination);
    double memcpy = reads * (double)nbytes / copy.Elapsed.TotalSeconds / 1e9;

    gate.Set();
    await run.WaitAsync(TimeSpan.FromMinutes(2));
    await rank;
    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["mib"] = mib, ["reads"] = reads, ["pairs"] = pairs,
        ["deisa_gbs"] = deisa, ["arrow_gbs"] = arrow, ["memcpy_gbs"] = memcpy,
    }));
}
finally { dir.Delete(recursive: true); }

/// <summary>Arrow's own Flight server, streaming one batch over the reference bytes.</summary>
sealed class ReferenceServer : FlightServer
{
    public static nint Address;
    public static long NBytes;

    public override async Task DoGet(FlightTicket ticket, FlightServerRecordBatchStreamWriter responseStream, ServerCallContext context)
    {
        var schema = new Schema.Builder().Field(f => f.Name("values").DataType(DoubleType.Default).Nullable(false)).Build();
        var buffer = new ArrowBuffer(new Native(Address, (int)NBytes).Memory);
        var data = new ArrayData(DoubleType.Default, (int)(NBytes / 8), 0, 0, [ArrowBuffer.Empty, buffer]);
        using var batch = new RecordBatch(schema, [ArrowArrayFactory.BuildArray(data)], data.Length);
        await responseStream.WriteAsync(batch);
    }

    private sealed unsafe class Native(nint address, int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => new((void*)address, length);
        public override MemoryHandle Pin(int elementIndex = 0) => new((byte*)address + elementIndex);
        public override void Unpin() { }
        protected override void Dispose(bool disposing) { }
    }
}
