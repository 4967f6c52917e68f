using System.Text.Json.Serialization;

namespace Deisa.Native.Exports;

/// <summary>What deisa_analytics_info tells: {"session", "address", "rendezvous", "pool_bytes"}.</summary>
internal sealed record RunInfo(string Session, string Address, string Rendezvous, long PoolBytes);

/// <summary>One array's layout, as deisa_analytics_wait_for_simulation tells it.</summary>
internal sealed record LayoutInfo(long[] GlobalShape, long[][] Chunks, string Dtype);

/// <summary>The JSON the C ABI returns, written by System.Text.Json's source generator (no reflection under Native AOT).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(RunInfo))]
[JsonSerializable(typeof(SortedDictionary<string, LayoutInfo>))]
[JsonSerializable(typeof(List<string>))]
internal sealed partial class NativeJson : JsonSerializerContext;
