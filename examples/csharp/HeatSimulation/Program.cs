// A 2-D heat-equation simulation, one process per rank, that hands its field to Deisa every
// timestep as a ReadOnlyTensorSpan<double> and steers its heaters with the analytics' feedback.
//
//     mpirun -np 4 dotnet HeatSimulation.dll --steps 100 --size 128
//     dotnet HeatSimulation.dll --rank 0 --world 1
//
// The C# counterpart of examples/heat2d_simulation.py, without the halo exchange (see HeatPlate).
using System.Globalization;
using HeatSimulation;
using Deisa.Model;
using Deisa.Simulation;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

SimulationOptions options;
try { options = SimulationOptions.Parse(args); }
catch (ArgumentException e)
{
    Console.Error.WriteLine($"HeatSimulation: {e.Message}\n\n{SimulationOptions.Usage}");
    return 2;
}

var block = Decomposition.Of(options.Rank, options.WorldSize, options.Rows, options.Columns);
var plate = new HeatPlate(block, options.Rows, options.Columns);
double heating = 1.0;
if (options.Rank == 0)
    Console.WriteLine($"simulation: {options.Rows}x{options.Columns} plate on {options.WorldSize} ranks " +
                      $"({block.GridRows}x{block.GridColumns} blocks), {options.Steps} timesteps");

try
{
    using var bridge = Bridge.Open(new BridgeOptions(options.Rank, options.WorldSize)
    {
        Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds),
    });
    bridge.DeclareArray("temperature",
        globalShape: [options.Rows, options.Columns],
        chunkShape: [block.BlockRows, block.BlockColumns],
        position: [block.Row, block.Column],
        dtype: DType.Float64);

    for (long t = 0; t < options.Steps; t++)
    {
        // The interior of the framed field is a strided tensor: copied once into shared memory.
        bridge.Send("temperature", plate.Interior, t);
        if (options.ReportSums)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sum rank={options.Rank} t={t} {plate.Sum():R}"));

        // Send(t) returned, so the callbacks of t-1 have run (max_simulation_ahead=1) and their
        // feedback is there. Every rank gets the same answer.
        if (bridge.GetFeedback("cooling", t - 1)?.Value is { } value && value.TryGetDouble(out var factor) && factor != heating)
        {
            if (options.Rank == 0)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"simulation: timestep {t}: feedback for timestep {t - 1}: {(factor < heating ? "cooling" : "heating again")}, heater power x{factor:g}"));
            heating = factor;
        }
        plate.Advance(heating, options.Substeps);
    }
    bridge.Close(options.Steps);
}
catch (DeisaException e)
{
    Console.Error.WriteLine($"HeatSimulation rank {options.Rank}: {e.Status}: {e.Message}");
    return 1;
}

if (options.Rank == 0) Console.WriteLine($"simulation: done, {options.Steps} timesteps sent");
return 0;
