using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Deisa.Analytics;
using Deisa.Model;

namespace Deisa.Processes.Tests;

/// <summary>
/// The test is the analytics (an <see cref="AnalyticsHost"/>); the example HeatSimulation runs
/// as four separate rank processes that each report their own block sums.
/// </summary>
public sealed partial class HeatSimulationTests
{
    [GeneratedRegex(@"^sum rank=(\d+) t=(\d+) (\S+)$")]
    private static partial Regex SumLine();

    [Fact]
    public async Task Sums_per_timestep_match_the_ranks_own_sums_and_the_feedback_steers_the_heaters()
    {
        const int steps = 24;
        using var dir = new RunDirectory();
        await using var host = dir.Host();
        var seen = new ConcurrentDictionary<long, (double Sum, double Mean, double Min, double Max)>();
        var layouts = new List<string>();
        var kept = new List<DistributedArray>();
        host.Register(async inputs =>
        {
            var window = inputs["temperature"];
            var now = window.Newest;
            kept.Add(now);
            Assert.Equal(Math.Min(2, now.Timestep + 1), window.Count);
            layouts.Add($"{string.Join("x", now.GlobalShape)} {string.Join("|", now.Chunks.Select(c => string.Join(",", c)))} ranks {string.Join(",", now.Blocks.Select(b => b.Rank))}");
            seen[now.Timestep] = (now.Sum<double>(), now.Mean<double>(), now.Min<double>(), now.Max<double>());
            // Heaters at half power from timestep 5, full power again from timestep 10.
            if (now.Timestep == 5) await host.SetAsync("cooling", 0.5, 5);
            if (now.Timestep == 10) await host.SetAsync("cooling", 1.0, 10);
        }, CallbackOptions.FailFast, new WindowSpec("temperature", 2));

        var run = host.RunAsync();
        var ranks = dir.Ranks(Programs.HeatSimulation, 4, "--steps", $"{steps}", "--size", "41", "31", "--substeps", "3", "--report-sums", "--timeout", "60");
        await run.WaitAsync(RunDirectory.Limit);
        foreach (var r in ranks) await r.SucceedsAsync(RunDirectory.Limit);

        // 41 x 31 over a 2 x 2 grid: uneven blocks, rank r at (r / 2, r % 2).
        Assert.All(layouts, l => Assert.Equal("41x31 21,20|16,15 ranks 0,1,2,3", l));
        Assert.Equal(Enumerable.Range(0, steps).Select(t => (long)t), seen.Keys.Order());

        // The ranks' own sums (plain loops in each process) add up to what the analytics computed.
        var reported = new Dictionary<long, double>();
        int lines = 0;
        foreach (var r in ranks)
            foreach (var m in r.Lines.Select(l => SumLine().Match(l)).Where(m => m.Success))
            {
                long t = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
                reported[t] = reported.GetValueOrDefault(t) + double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
                lines++;
            }
        Assert.Equal(4 * steps, lines);
        foreach (var (t, s) in seen)
        {
            Assert.Equal(reported[t], s.Sum, Math.Max(1e-9, Math.Abs(reported[t]) * 1e-12));
            Assert.Equal(reported[t] / (41 * 31), s.Mean, 1e-9);
            Assert.True(s.Min <= s.Mean && s.Mean <= s.Max, $"t={t}: min {s.Min} mean {s.Mean} max {s.Max}");
        }
        Assert.Equal(0, seen[0].Sum); // the plate starts cold
        Assert.True(seen[steps - 1].Sum > 0);

        // Rank 0 applied both feedback values, each on the timestep after it was set.
        var log = ranks[0].Output;
        Assert.Contains("simulation: timestep 6: feedback for timestep 5: cooling, heater power x0.5", log);
        Assert.Contains("simulation: timestep 11: feedback for timestep 10: heating again, heater power x1", log);
        // And the field shows it: a rank sends t, then advances with the heating of its latest
        // answer, so the advances 6..10 ran at half power. The plate heats up ever more slowly
        // at constant power, so only the feedback can make the gain of 12..16 beat that of 7..11.
        double Gain(int from, int to) => seen[to].Sum - seen[from].Sum;
        Assert.True(Gain(7, 11) < Gain(2, 6), $"half power: gain {Gain(7, 11)} over 7..11, {Gain(2, 6)} over 2..6");
        Assert.True(Gain(12, 16) > Gain(7, 11), $"full power again: gain {Gain(12, 16)} over 12..16, {Gain(7, 11)} over 7..11");

        Assert.All(kept, a => Assert.True(a.IsReleased, a.ToString()));
        RunDirectory.AssertNoSharedMemory(host);
    }
}
