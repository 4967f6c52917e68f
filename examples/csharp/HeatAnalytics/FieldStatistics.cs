using System.Buffers;
using System.Numerics.Tensors;
using Deisa.Analytics;

namespace HeatAnalytics;

/// <summary>Statistics of the temperature at one timestep and its rate of change over the window.</summary>
internal sealed record FieldStatistics(long Timestep, double Mean, double Min, double Max, double MeanRate, double MaxAbsRate)
{
    /// <summary>
    /// Mean, min and max of the newest array (TensorPrimitives over its blocks, in place in
    /// shared memory), and the time derivative between the oldest and newest arrays of the
    /// window, block by block: (now - then) / (t_now - t_then).
    /// </summary>
    public static FieldStatistics Of(ArrayWindow window)
    {
        var now = window.Newest;
        double mean = now.Mean<double>(), min = now.Min<double>(), max = now.Max<double>();
        if (window.Count < 2) return new(now.Timestep, mean, min, max, double.NaN, double.NaN);

        var then = window.Oldest;
        double dt = now.Timestep - then.Timestep;
        double maxChange = 0;
        for (int b = 0; b < now.Blocks.Count; b++)
        {
            // Both timesteps have the same blocks (same rank, same position, same memory order).
            var current = now.Blocks[b].AsSpan<double>();
            var before = then.Blocks[b].AsSpan<double>();
            var change = ArrayPool<double>.Shared.Rent(current.Length);
            try
            {
                var span = change.AsSpan(0, current.Length);
                TensorPrimitives.Subtract(current, before, span);
                maxChange = Math.Max(maxChange, Math.Abs(TensorPrimitives.MaxMagnitude<double>(span)));
            }
            finally { ArrayPool<double>.Shared.Return(change); }
        }
        return new(now.Timestep, mean, min, max, (mean - then.Mean<double>()) / dt, maxChange / dt);
    }
}
