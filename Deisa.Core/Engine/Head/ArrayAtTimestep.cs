using Deisa.Engine.Messages;
using Deisa.Model;

namespace Deisa.Engine.Head;

/// <summary>What the head knows of one array at one timestep.</summary>
internal sealed class ArrayAtTimestep(ArrayLayout layout)
{
    public ArrayLayout Layout { get; } = layout;
    /// <summary>The timestep's dtype: declared, or the first block's; and the rank that sent that block (-1: declared).</summary>
    public DType DType = layout.DType;
    public int DTypeRank = -1;
    public readonly Dictionary<int, BlockArrived> Blocks = new();
    /// <summary>Ranks whose send of this array at this timestep was called (committed or not).</summary>
    public readonly HashSet<int> Announced = new();
    public bool Complete => Blocks.Count == Layout.BlockCount;
    /// <summary>A send was called but its block is not committed yet (it is being written).</summary>
    public bool InFlight => Announced.Count > Blocks.Count;
    /// <summary>Handed to the windows (once complete, if a callback reads the array).</summary>
    public bool Pushed;
}
