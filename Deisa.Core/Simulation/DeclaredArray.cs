using System.Text;
using Deisa.Model;

namespace Deisa.Simulation;

/// <summary>One array this rank declared, as its bridge keeps it.</summary>
internal sealed class DeclaredArray(BlockDeclaration declaration)
{
    /// <summary>What the rank declared.</summary>
    public BlockDeclaration Declaration { get; } = declaration;

    /// <summary>The name as the block channel's frames carry it, encoded once.</summary>
    public byte[] NameUtf8 { get; } = Encoding.UTF8.GetBytes(declaration.Array);

    /// <summary>The declared dtype, or the one the layouts decided (another rank declared it);
    /// <see cref="DType.Undeclared"/> while each timestep's first block decides.</summary>
    public DType DType { get; set; } = declaration.DType;

    /// <summary>A slot granted ahead for this rank's next block of the array (see <see cref="Protocol.BlockFrames.SpareFrame"/>).</summary>
    public Protocol.BlockFrames.SpareFrame? Ahead { get; set; }

    /// <summary>The newest timestep of this array the analytics accepted a block of (long.MinValue: none).</summary>
    public long LastSent { get; set; } = long.MinValue;

    /// <summary>
    /// Whether a block of this array, as given, is one the analytics accepts if its timestep is
    /// admitted: the declared (or decided) dtype, the chunk shape and memory order, a timestep
    /// after this array's last and not before the rank's last. Any other block is sent with an
    /// answer, so that the analytics' error comes back at this call.
    /// </summary>
    public bool Accepts(DType dtype, ReadOnlySpan<long> shape, MemoryOrder order, long nbytes, long t, long rankLast) =>
        DType != DType.Undeclared && dtype == DType && order == Declaration.Order && t > LastSent && t >= rankLast
        && shape.SequenceEqual(Declaration.ChunkShape) && nbytes == Declaration.BlockBytes(dtype);
}
