namespace Deisa.Model;

/// <summary>Kind of an analytics event's packed record (<c>deisa_event_kind</c>, <c>deisa_analytics_read_events</c>). Part of the stable C ABI.</summary>
public enum EventKind
{
    /// <summary>An array is complete at a timestep.</summary>
    Array = 1,
    /// <summary>A callback is due, with its windows.</summary>
    Callback = 2,
    /// <summary>No window holds an (array, timestep) any more.</summary>
    Drop = 3,
    /// <summary>Every callback due at a timestep was announced.</summary>
    TimestepDone = 4,
    /// <summary>The run cannot go on.</summary>
    Failed = 5,
    /// <summary>Every bridge closed and every timestep was processed.</summary>
    End = 6,
}
