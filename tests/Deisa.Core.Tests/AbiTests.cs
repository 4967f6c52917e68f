using System.Text.Json;

namespace Deisa.Core.Tests;

/// <summary>
/// The C# enums and facts against the C ABI's one description (Deisa.Native/abi/deisa_abi.json),
/// from which deisa.h, the Fortran module and the Python binding are generated: every value of
/// the description has its C# member with the same number, and no C# member is left out of it.
/// </summary>
public class AbiTests
{
    private static readonly JsonElement Abi = JsonDocument.Parse(File.ReadAllText(Repository.PathOf("Deisa.Native/abi/deisa_abi.json"))).RootElement;

    /// <summary>Each described enum (by its C# name) and its C# type.</summary>
    public static TheoryData<string> Enums => new() { "DeisaStatus", "DType", "MemoryOrder", "AnalyticsFailurePolicy", "FiringRule", "FeedbackKind", "EventKind", "PartitionMode" };

    private static readonly Dictionary<string, Type> Types = new()
    {
        ["DeisaStatus"] = typeof(DeisaStatus), ["DType"] = typeof(DType), ["MemoryOrder"] = typeof(MemoryOrder),
        ["AnalyticsFailurePolicy"] = typeof(AnalyticsFailurePolicy), ["FiringRule"] = typeof(FiringRule),
        ["FeedbackKind"] = typeof(FeedbackKind), ["EventKind"] = typeof(EventKind),
        ["PartitionMode"] = typeof(Deisa.Scheduling.PartitionMode),
    };

    private static JsonElement Described(string csharp) =>
        new[] { Abi.GetProperty("status") }.Concat(Abi.GetProperty("enums").EnumerateArray())
            .Single(e => e.GetProperty("csharp").GetString() == csharp);

    [Theory]
    [MemberData(nameof(Enums))]
    public void TheEnumHasTheDescribedMembersAndNoOther(string csharp)
    {
        var type = Types[csharp];
        var described = Described(csharp).GetProperty("values").EnumerateArray()
            .ToDictionary(v => v.GetProperty("csharp").GetString()!, v => v.GetProperty("value").GetInt32());
        var members = Enum.GetNames(type).ToDictionary(n => n, n => Convert.ToInt32(Enum.Parse(type, n)));
        Assert.Equal(described.OrderBy(kv => kv.Key), members.OrderBy(kv => kv.Key));
    }

    [Fact]
    public void EveryDescribedEnumIsChecked() =>
        Assert.Equal(Types.Keys.Order(), new[] { Abi.GetProperty("status") }.Concat(Abi.GetProperty("enums").EnumerateArray())
            .Select(e => e.GetProperty("csharp").GetString()!).Order());

    [Fact]
    public void DTypesHaveTheDescribedSizesAndNumpyNames()
    {
        foreach (var v in Described("DType").GetProperty("values").EnumerateArray().Where(v => v.TryGetProperty("numpy", out _)))
        {
            var d = Enum.Parse<DType>(v.GetProperty("csharp").GetString()!);
            Assert.Equal(v.GetProperty("itemsize").GetInt32(), DTypes.ItemSize(d));
            Assert.Equal(v.GetProperty("numpy").GetString(), DTypes.NumpyName(d));
        }
    }

    [Fact]
    public void EveryStatusHasItsDescribedText()
    {
        foreach (var v in Described("DeisaStatus").GetProperty("values").EnumerateArray())
            Assert.Equal(v.GetProperty("message").GetString(), AbiConstants.StatusMessage((DeisaStatus)v.GetProperty("value").GetInt32()));
        Assert.Null(AbiConstants.StatusMessage((DeisaStatus)99));
    }
}
