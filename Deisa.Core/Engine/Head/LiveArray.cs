using Deisa.Model;

namespace Deisa.Engine.Head;

/// <summary>An array at a timestep whose blocks the run holds now (a callback's window keeps
/// them): its layout and its blocks, in the layout's order.</summary>
public sealed record LiveArray(string Name, long Timestep, DType DType, long[] GlobalShape, long[][] Chunks, IReadOnlyList<BlockView> Blocks);
