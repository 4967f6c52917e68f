namespace Deisa.Server;

/// <summary>Told by a block channel connection's thread of each small block's send, before it
/// handles it (the analytics' waiting reader, see Hosting's EventWaiter).</summary>
internal interface ISendObserver
{
    /// <summary>A send of (<paramref name="rank"/>, <paramref name="array"/>, <paramref name="timestep"/>)
    /// arrived on <paramref name="connection"/> and is about to be handled.</summary>
    void Arrives(int rank, string array, long timestep, RankConnection connection);
}
