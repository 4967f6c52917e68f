namespace Deisa.NodeActor;

/// <summary>Where a node actor reports the blocks committed on its node (the head actor).</summary>
public interface IBlockSink
{
    /// <summary>Called, in commit order, for every committed block.</summary>
    void BlockArrived(BlockArrival block);
}
