namespace Deisa.Model;

/// <summary>How a block's elements are laid out in memory. Part of the stable C ABI.</summary>
public enum MemoryOrder
{
    /// <summary>Row-major (C, C++, numpy default): the last index varies fastest.</summary>
    C = 0,
    /// <summary>Column-major (Fortran): the first index varies fastest.</summary>
    Fortran = 1,
}
