using System.Runtime.InteropServices;
using Deisa.Dashboard;
using Deisa.Hosting;
using Deisa.Model;
using Deisa.Protocol;

namespace Deisa.Native.Exports;

/// <summary>
/// The run's live dashboard: serve it, read its address, stop it; and what the analytics
/// reports for it that the core cannot see (callbacks' times and failures, pictures and
/// reductions of arrays).
/// </summary>
internal static unsafe class DashboardExports
{
    private const string A = "analytics";
    private const string D = "dashboard";

    /// <summary>The most values a picture may have (a 2-D slice of 1024 × 1024).</summary>
    private const long MaxPictureValues = 1 << 20;

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_serve_dashboard")]
    public static int Serve(nint analytics, byte* address, nint* dashboard) => NativeCall.Run(() =>
    {
        var outp = NativeCall.Out(dashboard, "dashboard (out)");
        *outp = 0;
        var run = HandleTable.Get<AnalyticsRun>(analytics, A);
        var server = NativeCall.Wait(run.StartDashboardAsync(NativeCall.OptionalUtf8(address, "address") ?? Protocol.Address.FreeLoopbackPort));
        *outp = HandleTable.Add(server);
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_dashboard_open")]
    public static int Open(byte* rendezvous, byte* address, nint* dashboard) => NativeCall.Run(() =>
    {
        var outp = NativeCall.Out(dashboard, "dashboard (out)");
        *outp = 0;
        var r = new Rendezvous(NativeCall.OptionalUtf8(rendezvous, "rendezvous"));
        var info = r.TryReadLive() ?? throw new DeisaException(DeisaStatus.State, $"no live analytics in {r.FilePath}");
        var at = NativeCall.OptionalUtf8(address, "address") ?? Protocol.Address.FreeLoopbackPort;
        var tables = new RemoteRunTables(info);
        try { *outp = HandleTable.Add(NativeCall.Wait(DashboardServer.StartAsync(at, tables, ownsSource: true))); }
        catch
        {
            tables.Dispose();
            throw;
        }
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_dashboard_url")]
    public static int Url(nint dashboard, byte** url) => NativeCall.Run(() =>
    {
        var server = HandleTable.Get<DashboardServer>(dashboard, D);
        var o = NativeCall.Out(url, "url (out)");
        *o = NativeCall.AllocUtf8(server.Url);
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_dashboard_free")]
    public static int Free(nint dashboard) => NativeCall.Run(() =>
    {
        if (dashboard == 0) return;
        NativeCall.Wait(HandleTable.Remove<DashboardServer>(dashboard, D).DisposeAsync().AsTask());
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_report_callback")]
    public static int ReportCallback(nint analytics, byte* callback, long timestep, double seconds, byte* error) => NativeCall.Run(() =>
    {
        var run = HandleTable.Get<AnalyticsRun>(analytics, A);
        if (!(seconds >= 0)) throw DeisaException.Value($"seconds must be a duration of at least 0 (got {seconds})");
        run.Activity.CallbackRan(NativeCall.Utf8(callback, "callback"), timestep, seconds, NativeCall.OptionalUtf8(error, "error"));
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_report_picture")]
    public static int ReportPicture(nint analytics, byte* array, long timestep, long rows, long columns, double* values, byte* slice) => NativeCall.Run(() =>
    {
        var run = HandleTable.Get<AnalyticsRun>(analytics, A);
        var name = NativeCall.Utf8(array, "array");
        if (rows < 1 || columns < 1 || rows > MaxPictureValues || columns > MaxPictureValues || rows * columns > MaxPictureValues)
            throw DeisaException.Value($"a picture is 1 to {MaxPictureValues} values in rows × columns (got {rows} × {columns})");
        if (values == null) throw new DeisaException(DeisaStatus.InvalidHandle, "values is NULL");
        var copy = new ReadOnlySpan<double>(values, (int)(rows * columns)).ToArray();
        if (!run.Activity.Picture(new ArrayPicture(name, timestep, (int)rows, (int)columns, copy, NativeCall.OptionalUtf8(slice, "slice") ?? "")))
            throw DeisaException.Value($"array '{name}' cannot have a picture: {RunActivity.MaxArrays} other arrays have one already");
    });

    [UnmanagedCallersOnly(EntryPoint = "deisa_analytics_report_reduction")]
    public static int ReportReduction(nint analytics, byte* array, long timestep, double mean, double min, double max) => NativeCall.Run(() =>
    {
        var run = HandleTable.Get<AnalyticsRun>(analytics, A);
        var name = NativeCall.Utf8(array, "array");
        if (!run.Activity.Reduction(name, new ReductionPoint(timestep, mean, min, max)))
            throw DeisaException.Value($"array '{name}' cannot have reductions: {RunActivity.MaxArrays} other arrays have them already");
    });
}
