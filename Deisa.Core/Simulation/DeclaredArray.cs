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
}
