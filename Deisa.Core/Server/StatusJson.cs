using System.Text.Json.Serialization;
using Deisa.Engine.Head;

namespace Deisa.Server;

/// <summary>The run's status as the Status call returns it (JSON for <c>deisa status</c>), written by System.Text.Json's source generator.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(RunStatus))]
internal sealed partial class StatusJson : JsonSerializerContext;
