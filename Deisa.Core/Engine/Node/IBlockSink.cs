namespace Deisa.Engine.Node;

/// <summary>Where a node actor reports the blocks committed on its node (the head actor).</summary>
public interface IBlockSink
{
    /// <summary>Called, in commit order, for every committed block.</summary>
    void BlockArrived(BlockArrival block);

    /// <summary>A rank gave up writing a block it had a slot for (abandoned, or the rank was lost).</summary>
    void BlockAbandoned(int rank, string array, long timestep) { }
}
