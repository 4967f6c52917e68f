using System.Text.Json.Serialization;

namespace Deisa.Native.Exports;

/// <summary>What deisa_analytics_info tells: {"session", "address", "rendezvous", "pool_bytes"}.</summary>
internal sealed record RunInfo(string Session, string Address, string Rendezvous, long PoolBytes, string Token);

/// <summary>One array's layout, as deisa_analytics_wait_for_simulation tells it.</summary>
internal sealed record LayoutInfo(long[] GlobalShape, long[][] Chunks, string Dtype);

/// <summary>One node service of a cluster run, as deisa_analytics_nodes tells it (lost: why, or null).</summary>
internal sealed record NodeInfo(int Node, string Host, string Worker, int[] Ranks, string? Lost);

/// <summary>What deisa_node_state tells: {"state", "session", "node"} (session and node null when not serving).</summary>
internal sealed record NodeServiceInfo(string State, string? Session, int? Node);

/// <summary>The JSON the C ABI returns, written by System.Text.Json's source generator (no reflection under Native AOT).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(RunInfo))]
[JsonSerializable(typeof(SortedDictionary<string, LayoutInfo>))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(List<NodeInfo>))]
[JsonSerializable(typeof(NodeServiceInfo))]
internal sealed partial class NativeJson : JsonSerializerContext
{
    /// <summary>A value as JSON, in memory the caller frees with deisa_string_free.</summary>
    public static unsafe byte* Allocate<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        var json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(value, type);
        var p = (byte*)System.Runtime.InteropServices.NativeMemory.Alloc((nuint)json.Length + 1);
        json.CopyTo(new Span<byte>(p, json.Length));
        p[json.Length] = 0;
        return p;
    }
}
