using System.Numerics.Tensors;

namespace HeatSimulation;

/// <summary>
/// One rank's block of a 2-D plate: explicit Euler steps of
/// du/dt = laplacian(u) + heating * source - loss * u on a 5-point stencil.
/// </summary>
/// <remarks>
/// The block is stored with a one-cell ghost frame that is never written: it holds the fixed
/// boundary temperature 0. There is no halo exchange (the example needs no MPI library), so each
/// rank evolves its block on its own and every block edge acts as a cold wall; on one rank this
/// is the usual plate with edges held at 0 degrees.
/// </remarks>
internal sealed class HeatPlate
{
    // Heaters as (row, column, radius) in fractions of the plate's sides, as in heat2d_simulation.py.
    private static readonly (double Row, double Column, double Radius)[] Heaters = [(0.5, 0.5, 0.06), (0.25, 0.7, 0.04), (0.72, 0.25, 0.05)];
    private const double HeaterPower = 0.5; // degrees per iteration at a heater's centre
    private const double Loss = 2e-3;       // fraction of its temperature a cell loses per iteration
    private const double Diffusion = 0.2;   // alpha * dt / dx^2; stable up to 0.25

    private readonly int _rows, _columns, _stride;
    private double[] _u, _next;
    private readonly double[] _source;

    public HeatPlate(Decomposition block, int plateRows, int plateColumns)
    {
        _rows = block.BlockRows;
        _columns = block.BlockColumns;
        _stride = _columns + 2;
        _u = new double[(_rows + 2) * _stride];
        _next = new double[_u.Length];
        _source = new double[_rows * _columns];
        double scale = Math.Min(plateRows, plateColumns);
        for (int i = 0; i < _rows; i++)
            for (int j = 0; j < _columns; j++)
                foreach (var h in Heaters)
                {
                    double di = block.RowOffset + i - h.Row * plateRows, dj = block.ColumnOffset + j - h.Column * plateColumns;
                    _source[i * _columns + j] += HeaterPower * Math.Exp(-(di * di + dj * dj) / (2 * Math.Pow(h.Radius * scale, 2)));
                }
    }

    /// <summary>
    /// The block without its ghost frame: a strided view into the framed field (rows of
    /// <c>columns + 2</c> elements), which <c>Bridge.Send</c> copies once into shared memory.
    /// </summary>
    public ReadOnlyTensorSpan<double> Interior =>
        new ReadOnlyTensorSpan<double>(_u, [_rows + 2, _stride]).Slice(1..^1, 1..^1);

    /// <summary>Sum of the block's temperatures, with a plain loop (an independent check of the analytics).</summary>
    public double Sum()
    {
        double sum = 0;
        for (int i = 1; i <= _rows; i++)
            for (int j = 1; j <= _columns; j++) sum += _u[i * _stride + j];
        return sum;
    }

    /// <summary><paramref name="iterations"/> explicit steps with the heaters at <paramref name="heating"/> times their power.</summary>
    public void Advance(double heating, int iterations)
    {
        for (int n = 0; n < iterations; n++)
        {
            for (int i = 1; i <= _rows; i++)
            {
                int row = i * _stride;
                for (int j = 1; j <= _columns; j++)
                {
                    int k = row + j;
                    double u = _u[k];
                    double laplacian = _u[k - _stride] + _u[k + _stride] + _u[k - 1] + _u[k + 1] - 4 * u;
                    _next[k] = u + Diffusion * laplacian + heating * _source[(i - 1) * _columns + j - 1] - Loss * u;
                }
            }
            (_u, _next) = (_next, _u); // the frames of both stay 0
        }
    }
}
