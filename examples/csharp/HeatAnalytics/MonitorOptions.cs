using System.Globalization;

namespace HeatAnalytics;

/// <summary>Command-line options of the analytics.</summary>
internal sealed record MonitorOptions
{
    public double Threshold { get; init; } = 2.0;
    public double Hysteresis { get; init; } = 0.25;
    public double Cooling { get; init; } = 0.25;
    public int Window { get; init; } = 2;
    public double TimeoutSeconds { get; init; } = 300;

    public const string Usage = """
        usage: HeatAnalytics [--threshold 2] [--hysteresis 0.25] [--cooling 0.25] [--window 2] [--timeout 300]

        Start it from the directory the simulation runs in (or set DEISA_RENDEZVOUS to the same
        directory for both), before or after the simulation.
        """;

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public static MonitorOptions Parse(string[] args)
    {
        var o = new MonitorOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            string value = i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value");
            o = name switch
            {
                "--threshold" => o with { Threshold = Number(name, value) },
                "--hysteresis" => o with { Hysteresis = Number(name, value) },
                "--cooling" => o with { Cooling = Number(name, value) },
                "--window" => o with { Window = (int)Number(name, value) },
                "--timeout" => o with { TimeoutSeconds = Number(name, value) },
                _ => throw new ArgumentException($"unknown argument '{name}'"),
            };
        }
        if (o.Window < 2) throw new ArgumentException($"--window must be at least 2 to take a derivative (got {o.Window})");
        if (o.TimeoutSeconds <= 0) throw new ArgumentException("--timeout must be positive");
        return o;
    }

    private static double Number(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : throw new ArgumentException($"{name} takes a number (got '{value}')");
}
