namespace Deisa.Model;

/// <summary>Element type of an array. Values are part of the stable C ABI (<c>deisa_dtype</c>).</summary>
public enum DType
{
    /// <summary>Not declared: the first block sent at a timestep decides.</summary>
    Undeclared = 0,
    Bool = 1,
    Int8 = 2,
    Int16 = 3,
    Int32 = 4,
    Int64 = 5,
    UInt8 = 6,
    UInt16 = 7,
    UInt32 = 8,
    UInt64 = 9,
    Float32 = 10,
    Float64 = 11,
    Complex64 = 12,
    Complex128 = 13,
}

/// <summary>Facts about <see cref="DType"/> values.</summary>
public static class DTypes
{
    /// <summary>True for a defined element type (not <see cref="DType.Undeclared"/>).</summary>
    public static bool IsDefined(DType d) => d is >= DType.Bool and <= DType.Complex128;

    /// <summary>Checks that a block's dtype is a defined element type; the error names the array.</summary>
    public static void CheckDefined(DType d, string array)
    {
        if (d == DType.Undeclared) throw DeisaException.Type($"array '{array}': a block needs its dtype (got undeclared)");
        if (!IsDefined(d)) throw DeisaException.Type($"array '{array}': unknown dtype code {(int)d}");
    }

    /// <summary>Size of one element in bytes.</summary>
    public static int ItemSize(DType d) => d switch
    {
        DType.Bool or DType.Int8 or DType.UInt8 => 1,
        DType.Int16 or DType.UInt16 => 2,
        DType.Int32 or DType.UInt32 or DType.Float32 => 4,
        DType.Int64 or DType.UInt64 or DType.Float64 or DType.Complex64 => 8,
        DType.Complex128 => 16,
        _ => throw new ArgumentOutOfRangeException(nameof(d), d, "undeclared dtype has no size"),
    };

    /// <summary>The numpy name of the type (e.g. "float64").</summary>
    public static string NumpyName(DType d) => d switch
    {
        DType.Bool => "bool",
        DType.Int8 => "int8",
        DType.Int16 => "int16",
        DType.Int32 => "int32",
        DType.Int64 => "int64",
        DType.UInt8 => "uint8",
        DType.UInt16 => "uint16",
        DType.UInt32 => "uint32",
        DType.UInt64 => "uint64",
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        DType.Complex64 => "complex64",
        DType.Complex128 => "complex128",
        _ => "undeclared",
    };

    /// <summary>The <see cref="DType"/> of a .NET element type.</summary>
    public static DType Of<T>() where T : unmanaged => default(T) switch
    {
        bool => DType.Bool,
        sbyte => DType.Int8,
        short => DType.Int16,
        int => DType.Int32,
        long => DType.Int64,
        byte => DType.UInt8,
        ushort => DType.UInt16,
        uint => DType.UInt32,
        ulong => DType.UInt64,
        float => DType.Float32,
        double => DType.Float64,
        System.Numerics.Complex => DType.Complex128,
        _ => throw new DeisaTypeNotSupported(typeof(T)),
    };
}

/// <summary>Raised for a .NET element type that Deisa cannot send.</summary>
public sealed class DeisaTypeNotSupported(Type t)
    : DeisaException(DeisaStatus.Type, $"element type {t.Name} is not supported");
