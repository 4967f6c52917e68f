namespace Deisa.Engine.Head;

/// <summary>A block whose arrival completes an array a callback waits for (see <see cref="HeadActor.AwaitedBlocks"/>).</summary>
internal readonly record struct AwaitedBlock(int Rank, string Array, long Timestep);
