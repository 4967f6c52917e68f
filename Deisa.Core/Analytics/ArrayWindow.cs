using System.Collections;

namespace Deisa.Analytics;

/// <summary>
/// One input of a callback at one timestep: the last timesteps of an array, oldest first and
/// newest last, at most <see cref="Size"/> long (shorter at the start of the run, docs/specification.md §4).
/// </summary>
public sealed class ArrayWindow : IReadOnlyList<DistributedArray>
{
    private readonly DistributedArray[] _arrays;

    internal ArrayWindow(string name, int size, DistributedArray[] arrays)
    {
        Name = name;
        Size = size;
        _arrays = arrays;
    }

    /// <summary>The array's name.</summary>
    public string Name { get; }

    /// <summary>The most timesteps the window holds (as registered).</summary>
    public int Size { get; }

    /// <summary>How many timesteps the window holds now (1 to <see cref="Size"/>).</summary>
    public int Count => _arrays.Length;

    /// <summary>The array at position <paramref name="index"/>, 0 being the oldest.</summary>
    public DistributedArray this[int index] => _arrays[index];

    /// <summary>The newest array (the timestep the callback runs for, or the last one seen for an OR input).</summary>
    public DistributedArray Newest => _arrays[^1];

    /// <summary>The oldest array of the window.</summary>
    public DistributedArray Oldest => _arrays[0];

    /// <summary>The arrays, oldest first.</summary>
    public IEnumerator<DistributedArray> GetEnumerator() => ((IEnumerable<DistributedArray>)_arrays).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>"'temperature' timesteps [3, 4]".</summary>
    public override string ToString() => $"'{Name}' timesteps [{string.Join(", ", _arrays.Select(a => a.Timestep))}]";
}
