using System.Globalization;
using System.Text.RegularExpressions;

namespace Deisa.Processes.Tests;

/// <summary>Both example programs as a user runs them: HeatAnalytics, and HeatSimulation under mpirun.</summary>
public sealed partial class ExampleProgramsTests
{
    [GeneratedRegex(@"^t=\s*(\d+)\s+mean=\s*(\S+)\s+min=\s*(\S+)\s+max=\s*(\S+)\s+dmean/dt=\s*(\S+)")]
    private static partial Regex StatsLine();

    [GeneratedRegex(@"^sum rank=(\d+) t=(\d+) (\S+)$")]
    private static partial Regex SumLine();

    private static double Number(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_example_analytics_steers_the_example_simulation_under_mpirun()
    {
        const int steps = 30, size = 48;
        using var dir = new RunDirectory();
        var analytics = dir.Dotnet("analytics", Programs.HeatAnalytics, "--threshold", "0.5", "--timeout", "60");
        string[] simArgs = [Programs.HeatSimulation, "--steps", $"{steps}", "--size", $"{size}", "--substeps", "5", "--report-sums", "--timeout", "60"];
        var simulations = new List<ChildProcess>();
        var mpirun = Environment.GetEnvironmentVariable("PATH")!.Split(':').Select(p => Path.Combine(p, "mpirun")).FirstOrDefault(File.Exists);
        if (mpirun is not null)
        {
            // Ranks take their rank and world size from Open MPI's environment: no MPI bindings.
            var env = dir.Environment;
            env["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
            env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
            env["OMPI_MCA_rmaps_base_oversubscribe"] = "1";
            simulations.Add(dir.Start("mpirun", mpirun, ["--oversubscribe", "-np", "4", Programs.DotNet, .. simArgs], env));
        }
        else
        {
            simulations.AddRange(dir.Ranks(simArgs[0], 4, simArgs[1..]));
        }
        foreach (var s in simulations) await s.SucceedsAsync(RunDirectory.Limit);
        await analytics.SucceedsAsync(RunDirectory.Limit);

        var simLog = string.Concat(simulations.Select(s => s.Output));
        Assert.Contains("simulation: 48x48 plate on 4 ranks (2x2 blocks), 30 timesteps", simLog);
        Assert.Contains("simulation: done, 30 timesteps sent", simLog);

        // One statistics line per timestep, in order, consistent with the sums the ranks printed.
        var sums = new Dictionary<long, double>();
        foreach (var m in simLog.Split('\n').Select(l => SumLine().Match(l.Trim())).Where(m => m.Success))
            sums[long.Parse(m.Groups[2].Value)] = sums.GetValueOrDefault(long.Parse(m.Groups[2].Value)) + Number(m.Groups[3].Value);
        var stats = analytics.Lines.Select(l => StatsLine().Match(l)).Where(m => m.Success).ToList();
        Assert.Equal(Enumerable.Range(0, steps).Select(t => t.ToString()), stats.Select(m => m.Groups[1].Value));
        double? previous = null;
        foreach (var m in stats)
        {
            long t = long.Parse(m.Groups[1].Value);
            double mean = Number(m.Groups[2].Value), min = Number(m.Groups[3].Value), max = Number(m.Groups[4].Value);
            Assert.True(min <= mean && mean <= max, m.Value);
            Assert.Equal(sums[t] / (size * size), mean, 5e-5); // printed with 4 decimals
            if (previous is { } p) Assert.Equal(mean - p, Number(m.Groups[5].Value), 2e-4);
            previous = mean;
        }

        // The thermostat acted and the simulation applied its feedback.
        var cool = analytics.Lines.Single(l => l.Contains("asking the simulation to cool"));
        var at = long.Parse(Regex.Match(cool, @"timestep (\d+)").Groups[1].Value);
        Assert.Contains($"simulation: timestep {at + 1}: feedback for timestep {at}: cooling, heater power x0.25", simLog);
        Assert.Contains("analytics: done, 30 timesteps", analytics.Output);
    }
}
