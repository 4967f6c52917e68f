using Deisa.Model;

namespace Deisa.Engine.Head;

/// <summary>What the head knows of one simulation rank.</summary>
internal sealed class RankState(int rank, IReadOnlyList<BlockDeclaration> arrays)
{
    public int Rank { get; } = rank;
    public IReadOnlyList<BlockDeclaration> Arrays { get; } = arrays;
    /// <summary>Process id of the rank when it runs on this node (0 = unknown).</summary>
    public int LocalPid;
    /// <summary>Host name of the rank's node, as it registered ("" = unknown).</summary>
    public string Host = "";
    /// <summary>Latest timestep this rank called send for.</summary>
    public long? LastAnnounced;
    /// <summary>Latest timestep of a block it committed.</summary>
    public long? LastSent;
    /// <summary>The oldest timestep of the blocks the rank held for this analytics when it
    /// registered (its earlier analytics was lost); null: it holds none.</summary>
    public long? HeldFrom;
    public bool Closed;
    public bool Lost;
    /// <summary>Its process is gone; it is lost once its block channel handled what it posted.</summary>
    public bool LossPending;
    /// <summary>True once nothing more will come from this rank.</summary>
    public bool Finished => Closed || Lost;
}
