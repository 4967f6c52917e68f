namespace Deisa.Model;

/// <summary>
/// Status codes shared by every door of Deisa: the C ABI returns them, the Python package maps
/// them to exceptions, the wire protocol carries them. Values are part of the stable C ABI.
/// </summary>
public enum DeisaStatus
{
    /// <summary>Success.</summary>
    Ok = 0,
    /// <summary>A bad value: shape, position, timestep order, layout (Python <c>ValueError</c>).</summary>
    Value = 1,
    /// <summary>A bad type or dtype (Python <c>TypeError</c>).</summary>
    Type = 2,
    /// <summary>An array or key that was never declared (Python <c>ContractError</c>).</summary>
    Contract = 3,
    /// <summary>A wait ran past its timeout (Python <c>TimeoutError</c>).</summary>
    Timeout = 4,
    /// <summary>The call is not valid in the current state, e.g. after close, or the logical
    /// flow of data was violated (Python <c>RuntimeError</c>).</summary>
    State = 5,
    /// <summary>The analytics went away (Python <c>ConnectionError</c>).</summary>
    AnalyticsLost = 6,
    /// <summary>An unexpected failure inside Deisa; the message says what.</summary>
    Internal = 7,
    /// <summary>Not an error: nothing happened before the wait's time ran out; call again.</summary>
    Pending = 8,
    /// <summary>A NULL or invalid handle or pointer was passed.</summary>
    InvalidHandle = 9,
    /// <summary>A wait was interrupted from another thread (a signal's handling, Ctrl-C): the
    /// bridge or run is disconnected and every later wait fails the same way (Python <c>KeyboardInterrupt</c>).</summary>
    Interrupted = 10,
}
