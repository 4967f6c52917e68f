using System.Globalization;

namespace HeatSimulation;

/// <summary>Command-line options of one simulation rank.</summary>
internal sealed record SimulationOptions
{
    public int Rank { get; init; }
    public int WorldSize { get; init; } = 1;
    public int Steps { get; init; } = 100;
    public int Rows { get; init; } = 128;
    public int Columns { get; init; } = 128;
    public int Substeps { get; init; } = 10;
    public double TimeoutSeconds { get; init; } = 300;
    /// <summary>Print this rank's block sum every timestep (computed here, independently of Deisa).</summary>
    public bool ReportSums { get; init; }

    public const string Usage = """
        usage: HeatSimulation [--rank R --world N] [--steps 100] [--size N | --size NY NX]
                              [--substeps 10] [--timeout 300] [--report-sums]

        One process per rank. Without --rank/--world the rank and world size come from Open MPI
        (OMPI_COMM_WORLD_RANK, OMPI_COMM_WORLD_SIZE) or MPICH/Slurm (PMI_RANK, PMI_SIZE), so
        `mpirun -np 4 dotnet HeatSimulation.dll` works without MPI bindings; else rank 0 of 1.
        The analytics is found through $DEISA_RENDEZVOUS (default ./.deisa).
        """;

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public static SimulationOptions Parse(string[] args)
    {
        var o = new SimulationOptions
        {
            Rank = FromEnvironment("OMPI_COMM_WORLD_RANK", "PMI_RANK") ?? 0,
            WorldSize = FromEnvironment("OMPI_COMM_WORLD_SIZE", "PMI_SIZE") ?? 1,
        };
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--rank": o = o with { Rank = Int(args[i], Next()) }; break;
                case "--world": o = o with { WorldSize = Int(args[i], Next()) }; break;
                case "--steps": o = o with { Steps = Int(args[i], Next()) }; break;
                case "--substeps": o = o with { Substeps = Int(args[i], Next()) }; break;
                case "--timeout": o = o with { TimeoutSeconds = double.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--report-sums": o = o with { ReportSums = true }; break;
                case "--size":
                    int rows = Int("--size", Next());
                    int columns = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? Int("--size", args[++i]) : rows;
                    o = o with { Rows = rows, Columns = columns };
                    break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }
        if (o.WorldSize < 1) throw new ArgumentException($"--world must be at least 1 (got {o.WorldSize})");
        if (o.Rank < 0 || o.Rank >= o.WorldSize) throw new ArgumentException($"--rank {o.Rank} is outside a world of {o.WorldSize}");
        if (o.Steps < 1 || o.Substeps < 1 || o.Rows < 1 || o.Columns < 1) throw new ArgumentException("--steps, --substeps and --size must be positive");
        return o;
    }

    private static int Int(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"{name} takes an integer (got '{value}')");

    private static int? FromEnvironment(params string[] names)
    {
        foreach (var name in names)
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } v) return Int(name, v);
        return null;
    }
}
