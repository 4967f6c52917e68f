namespace HeatAnalytics;

/// <summary>
/// Turns the heaters down once the mean temperature passes a threshold and back up once it fell
/// by the hysteresis, so that the simulation visibly reacts to the analytics.
/// </summary>
internal sealed class Thermostat(double threshold, double hysteresis, double cooling)
{
    /// <summary>True while the heaters are turned down.</summary>
    public bool Cooling { get; private set; }

    /// <summary>True once the thermostat acted: from then on every timestep gets its factor.</summary>
    public bool Engaged { get; private set; }

    /// <summary>The heater power factor for the simulation.</summary>
    public double Factor => Cooling ? cooling : 1.0;

    /// <summary>Updates the state with the mean at a timestep; returns what changed, or null.</summary>
    public string? Observe(double mean)
    {
        if (!Cooling && mean > threshold)
        {
            Cooling = Engaged = true;
            return $"mean {mean:F3} > {threshold:g}, asking the simulation to cool (heater power x{cooling:g})";
        }
        if (Cooling && mean < threshold - hysteresis)
        {
            Cooling = false;
            return $"mean {mean:F3} < {threshold - hysteresis:g}, asking the simulation to heat again";
        }
        return null;
    }
}
