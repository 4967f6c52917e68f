// Live analytics of HeatSimulation with the C# analytics host: every timestep prints the mean,
// min and max temperature (TensorPrimitives over the blocks, read in place from shared memory)
// and the time derivative over a window of 2 timesteps, and acts as a thermostat: once the mean
// passes a threshold it asks the simulation to turn its heaters down (feedback "cooling").
//
//     dotnet HeatAnalytics.dll &                          # from the simulation's directory
//     mpirun -np 4 dotnet HeatSimulation.dll --steps 100
using System.Globalization;
using HeatAnalytics;
using Deisa.Analytics;
using Deisa.Model;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
MonitorOptions options;
try { options = MonitorOptions.Parse(args); }
catch (ArgumentException e)
{
    Console.Error.WriteLine($"HeatAnalytics: {e.Message}\n\n{MonitorOptions.Usage}");
    return 2;
}

var thermostat = new Thermostat(options.Threshold, options.Hysteresis, options.Cooling);
var series = new List<FieldStatistics>();
await using var host = new AnalyticsHost(new AnalyticsOptions { Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds) });

host.Register(async inputs =>
{
    var stats = FieldStatistics.Of(inputs["temperature"]);
    series.Add(stats);
    if (thermostat.Observe(stats.Mean) is { } change)
        Console.WriteLine($"analytics: timestep {stats.Timestep}: {change}");
    if (thermostat.Engaged) await host.SetAsync("cooling", thermostat.Factor, stats.Timestep);
    Console.WriteLine($"t={stats.Timestep,4}  mean={stats.Mean,7:F4}  min={stats.Min,7:F4}  max={stats.Max,8:F4}  " +
                      $"dmean/dt={stats.MeanRate,8:+0.0000;-0.0000}  max|dT/dt|={stats.MaxAbsRate,7:F4}");
}, CallbackOptions.FailFast with { Name = "monitor" }, new WindowSpec("temperature", options.Window));

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
try
{
    await host.RunAsync(stop.Token);
}
catch (DeisaException e)
{
    Console.Error.WriteLine($"HeatAnalytics: {e.Status}: {e.Message}");
    return 1;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("HeatAnalytics: interrupted");
    return 130;
}

if (series.Count > 0)
    Console.WriteLine($"analytics: done, {series.Count} timesteps; mean from {series[0].Mean:F4} to {series[^1].Mean:F4}, " +
                      $"peak {series.Max(s => s.Max):F4}");
return 0;
