using Deisa.Model;

namespace Deisa.Engine.Head;

/// <summary>When a callback runs for a timestep (docs/specification.md §4, firing rules).</summary>
internal static class Firing
{
    public enum Decision { Wait, Fire, Skip }

    /// <summary>
    /// AND: it runs as soon as every input is complete at the timestep, and is skipped once the
    /// timestep closed without that. OR: once the timestep closed, it runs if some input got a
    /// new value and every input has been seen at least once, and is skipped otherwise.
    /// </summary>
    public static Decision Decide(CallbackSpec cb, TimestepState st, bool closed, Windows windows)
    {
        bool IsNew(string a) => st.Arrays.TryGetValue(a, out var at) && at.Complete && at.Pushed;
        if (cb.When == FiringRule.And)
        {
            if (cb.Inputs.All(i => IsNew(i.Array))) return Decision.Fire;
            return closed ? Decision.Skip : Decision.Wait;
        }
        if (!closed) return Decision.Wait;
        return cb.Inputs.Any(i => IsNew(i.Array)) && cb.Inputs.All(i => windows.Of(i.Array).Count > 0)
            ? Decision.Fire : Decision.Skip;
    }
}
