// One rank of a small simulation for the process tests. Every rank owns a rows x cols block of a
// 2-D int32 array on a 2 x (world/2) grid (1 x 1 for one rank); element (i, j) of the global
// array at timestep t is t * 1_000_000 + i * 1000 + j, so an analytics can check every value
// and the index order. Arrays: "fortran" (declared MemoryOrder.Fortran) and/or "c".
//
// Each rank sends through another path: rank % 4 == 0 a span in the declared order, 1 a C-ordered
// ReadOnlyTensorSpan, 2 a Fortran-ordered ReadOnlyTensorSpan (a transposed view), 3 a zero-copy
// buffer written through BlockBuffer.AsTensorSpan.
//
// usage: TestSimulation --rank R --world N [--steps 3] [--rows 3] [--cols 5] [--arrays fortran,c]
//                       [--feedback KEY] [--exit-after T] [--timeout 30]
using System.Globalization;
using System.Numerics.Tensors;
using Deisa.Model;
using Deisa.Simulation;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

var o = new Dictionary<string, string>(StringComparer.Ordinal);
for (int i = 0; i + 1 < args.Length; i += 2) o[args[i].TrimStart('-')] = args[i + 1];
int Int(string key, int fallback) => o.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

int rank = Int("rank", 0), world = Int("world", 1), steps = Int("steps", 3), rows = Int("rows", 3), cols = Int("cols", 5);
int exitAfter = Int("exit-after", -1);
string[] arrays = (o.GetValueOrDefault("arrays") ?? "fortran").Split(',');
string? feedbackKey = o.GetValueOrDefault("feedback");
int gridRows = world % 2 == 0 ? 2 : 1, gridCols = world / gridRows;
int row = rank / gridCols, col = rank % gridCols;
int mode = rank % 4;

static int V(long t, long i, long j) => checked((int)(t * 1_000_000 + i * 1000 + j));

try
{
    using var bridge = Bridge.Open(new BridgeOptions(rank, world) { Timeout = TimeSpan.FromSeconds(Int("timeout", 30)) });
    foreach (var name in arrays)
        bridge.DeclareArray(name, [gridRows * rows, gridCols * cols], [rows, cols], [row, col], DType.Int32,
            name == "fortran" ? MemoryOrder.Fortran : MemoryOrder.C);

    for (long t = 0; t < steps; t++)
    {
        foreach (var name in arrays)
        {
            var order = name == "fortran" ? MemoryOrder.Fortran : MemoryOrder.C;
            int Value(int i, int j) => V(t, row * rows + i, col * cols + j);
            switch (mode)
            {
                case 0: // the block's memory, laid out in the declared order
                    var memory = new int[rows * cols];
                    for (int i = 0; i < rows; i++)
                        for (int j = 0; j < cols; j++)
                            memory[order == MemoryOrder.Fortran ? i + j * rows : i * cols + j] = Value(i, j);
                    bridge.Send<int>(name, memory, t);
                    break;
                case 1: // a C-ordered tensor
                    var c = new int[rows * cols];
                    for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) c[i * cols + j] = Value(i, j);
                    bridge.Send(name, new ReadOnlyTensorSpan<int>(c, [rows, cols]), t);
                    break;
                case 2: // a Fortran-ordered tensor: the transposed view of a cols x rows C array
                    var f = new int[rows * cols];
                    for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) f[j * rows + i] = Value(i, j);
                    bridge.Send(name, new ReadOnlyTensorSpan<int>(f, [rows, cols], [1, rows]), t);
                    break;
                default: // zero copy through the buffer's tensor view
                    using (var buffer = bridge.Acquire(name, t))
                    {
                        var view = buffer.AsTensorSpan<int>();
                        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) view[i, j] = Value(i, j);
                        buffer.Commit();
                    }
                    break;
            }
        }
        if (t == exitAfter)
        {
            Console.WriteLine($"rank {rank} exits without closing after timestep {t}");
            Environment.Exit(3);
        }
        if (feedbackKey is not null && t > 0)
        {
            var value = bridge.GetFeedback(feedbackKey, t - 1)?.Value;
            string text = value is null ? "none" : value.TryGetString(out var s) ? s : "?";
            Console.WriteLine($"feedback rank={rank} t={t - 1} value={text}");
        }
    }
    bridge.Close(steps);
}
catch (DeisaException e)
{
    Console.Error.WriteLine($"TestSimulation rank {rank}: {e.Status}: {e.Message}");
    return 1;
}
Console.WriteLine($"rank {rank} done");
return 0;
