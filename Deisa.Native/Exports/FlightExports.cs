using System.Runtime.InteropServices;
using Deisa.Flight;
using Deisa.Hosting;

namespace Deisa.Native.Exports;

/// <summary>The run's Arrow Flight endpoint: serve it, read its location, stop it.</summary>
internal static unsafe class FlightExports
{
    private const string F = "flight";

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_serve_flight")]
    public static int Serve(nint analytics, byte* address, nint* flight) => NativeCall.Run(() =>
    {
        var outp = NativeCall.Out(flight, "flight (out)");
        *outp = 0;
        var run = HandleTable.Get<AnalyticsRun>(analytics, "analytics");
        var endpoint = NativeCall.Wait(run.StartFlightAsync(NativeCall.OptionalUtf8(address, "address") ?? Protocol.Address.FreeLoopbackPort));
        *outp = HandleTable.Add(endpoint);
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_flight_location")]
    public static int Location(nint flight, byte** location) => NativeCall.Run(() =>
    {
        var endpoint = HandleTable.Get<LiveBlocksEndpoint>(flight, F);
        var o = NativeCall.Out(location, "location (out)");
        *o = NativeCall.AllocUtf8(endpoint.Location);
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_flight_free")]
    public static int Free(nint flight) => NativeCall.Run(() =>
    {
        if (flight == 0) return;
        NativeCall.Wait(HandleTable.Remove<LiveBlocksEndpoint>(flight, F).DisposeAsync().AsTask());
    });
}
