namespace Deisa.Model;

/// <summary>One input of a callback: an array name and how many timesteps its window holds.</summary>
public sealed record WindowSpec(string Array, int Size = 1);
