using System.Text.Json.Serialization;

namespace Deisa.Protocol;

/// <summary>The protocol's JSON (the rendezvous record), written by System.Text.Json's source generator.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(RendezvousInfo))]
internal sealed partial class ProtocolJson : JsonSerializerContext;
