namespace Deisa.Model;

/// <summary>Bounds for timed waits (Task.Delay refuses more than ~49 days).</summary>
internal static class Waits
{
    /// <summary>What "no timeout" means in practice.</summary>
    public static readonly TimeSpan Forever = TimeSpan.FromDays(24);

    /// <summary>A wait given in milliseconds on the wire; 0 or less means no limit.</summary>
    public static TimeSpan FromMilliseconds(long ms) => ms > 0 ? TimeSpan.FromMilliseconds(ms) : Forever;

    /// <summary>A delay Task.Delay accepts.</summary>
    public static TimeSpan Clamp(TimeSpan t) => t <= TimeSpan.Zero ? TimeSpan.Zero : t > Forever ? Forever : t;
}
