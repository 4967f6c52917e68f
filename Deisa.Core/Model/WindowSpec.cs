namespace Deisa.Model;

/// <summary>One input of a callback: an array name and how many timesteps its window holds.</summary>
public sealed record WindowSpec(string Array, int Size = 1)
{
    /// <summary>Checks the window alone: a non-empty array name, at least one timestep.</summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(Array)) throw DeisaException.Value("a window needs an array name (got an empty one)");
        if (Size < 1) throw DeisaException.Value($"window of '{Array}' must hold at least 1 timestep (got {Size})");
    }
}
