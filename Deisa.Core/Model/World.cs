namespace Deisa.Model;

/// <summary>The simulation's ranks, 0 to the world's size - 1.</summary>
public static class World
{
    /// <summary>Checks a rank and the size of its world, as a bridge gives them.</summary>
    public static void Check(int rank, int worldSize)
    {
        if (worldSize < 1) throw DeisaException.Value($"world size must be at least 1 (got {worldSize})");
        if (rank < 0 || rank >= worldSize) throw DeisaException.Value($"rank {rank} is outside the world of size {worldSize}");
    }
}
