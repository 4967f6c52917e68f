using System.Collections;
using Deisa.Model;

namespace Deisa.Analytics;

/// <summary>
/// What a callback receives for one timestep: one <see cref="ArrayWindow"/> per input, in the
/// order the inputs were registered, also found by array name.
/// </summary>
public sealed class CallbackInputs : IReadOnlyList<ArrayWindow>
{
    private readonly ArrayWindow[] _windows;

    internal CallbackInputs(string callback, long timestep, ArrayWindow[] windows, CancellationToken cancellationToken)
    {
        Callback = callback;
        Timestep = timestep;
        _windows = windows;
        CancellationToken = cancellationToken;
    }

    /// <summary>The name the callback was registered under.</summary>
    public string Callback { get; }

    /// <summary>The timestep the callback runs for.</summary>
    public long Timestep { get; }

    /// <summary>Cancelled when the run is cancelled (<see cref="AnalyticsHost.RunAsync"/>'s token).</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Number of inputs.</summary>
    public int Count => _windows.Length;

    /// <summary>The window of input <paramref name="index"/> (registration order).</summary>
    public ArrayWindow this[int index] => _windows[index];

    /// <summary>The window of the input array <paramref name="array"/>.</summary>
    /// <exception cref="DeisaException">The callback has no such input (<see cref="DeisaStatus.Contract"/>, naming its inputs).</exception>
    public ArrayWindow this[string array] =>
        Array.Find(_windows, w => w.Name == array)
        ?? throw DeisaException.Contract($"callback '{Callback}' has no input '{array}'; its inputs: [{string.Join(", ", _windows.Select(w => $"'{w.Name}'"))}]");

    /// <summary>The windows, in registration order.</summary>
    public IEnumerator<ArrayWindow> GetEnumerator() => ((IEnumerable<ArrayWindow>)_windows).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
