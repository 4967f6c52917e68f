
namespace Deisa.Model;

/// <summary>
/// Checks that a .NET element type matches an array's dtype, with errors that name the array
/// and both types (e.g. "array 'temperature' at timestep 3 is float64 (double), not int32 (int)").
/// </summary>
internal static class ElementType
{
    /// <summary>Throws a <see cref="DeisaStatus.Type"/> error unless <typeparamref name="T"/> is the .NET type of <paramref name="dtype"/>.</summary>
    /// <param name="dtype">The array's dtype.</param>
    /// <param name="what">What holds the data, as the message names it (e.g. "array 'a' at timestep 3").</param>
    public static void Check<T>(DType dtype, string what) where T : unmanaged
    {
        DType asked;
        try { asked = DTypes.Of<T>(); }
        catch (DeisaTypeNotSupported)
        {
            throw DeisaException.Type($"{what} is {Describe(dtype)}; {typeof(T).Name} is not an element type Deisa knows");
        }
        if (asked != dtype) throw DeisaException.Type($"{what} is {Describe(dtype)}, not {Describe(asked)}");
    }

    /// <summary>"float64 (double)": the numpy name and the C# type to use.</summary>
    public static string Describe(DType d) => CSharpName(d) is { } cs ? $"{DTypes.NumpyName(d)} ({cs})" : DTypes.NumpyName(d);

    /// <summary>The C# keyword or type of a dtype's elements; null when .NET has none.</summary>
    public static string? CSharpName(DType d) => d switch
    {
        DType.Bool => "bool",
        DType.Int8 => "sbyte",
        DType.Int16 => "short",
        DType.Int32 => "int",
        DType.Int64 => "long",
        DType.UInt8 => "byte",
        DType.UInt16 => "ushort",
        DType.UInt32 => "uint",
        DType.UInt64 => "ulong",
        DType.Float32 => "float",
        DType.Float64 => "double",
        DType.Complex128 => "System.Numerics.Complex",
        _ => null,
    };
}
