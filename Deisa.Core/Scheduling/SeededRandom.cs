namespace Deisa.Scheduling;

/// <summary>
/// A small deterministic generator (SplitMix64): the same seed gives the same numbers on every
/// machine and .NET version, which <see cref="System.Random"/> does not promise.
/// </summary>
public struct SeededRandom
{
    private ulong _state;

    /// <summary>A generator started from <paramref name="seed"/>.</summary>
    public SeededRandom(ulong seed) => _state = seed;

    /// <summary>The next 64 random bits.</summary>
    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A number drawn uniformly from 0 to <paramref name="bound"/> - 1 (Lemire's
    /// multiply-and-reject: no modulo bias).</summary>
    /// <param name="bound">At least 1.</param>
    public int NextBelow(int bound)
    {
        ulong range = (ulong)bound;
        ulong high = Math.BigMul(Next(), range, out ulong low);
        if (low < range)
        {
            ulong threshold = (0UL - range) % range;
            while (low < threshold) high = Math.BigMul(Next(), range, out low);
        }
        return (int)high;
    }
}
