namespace Deisa.Model;

/// <summary>Type of a feedback value. Values are part of the stable C ABI.</summary>
public enum FeedbackKind
{
    None = 0,
    Bool = 1,
    /// <summary>64-bit signed integer, little-endian.</summary>
    Int64 = 2,
    /// <summary>IEEE double, little-endian.</summary>
    Float64 = 3,
    /// <summary>UTF-8 text.</summary>
    String = 4,
    Bytes = 5,
    /// <summary>A numpy array in <c>.npy</c> format.</summary>
    NdArray = 6,
}
