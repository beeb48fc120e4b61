using System.Text.Json;
using System.Text.Json.Serialization;

namespace PointService.Contracts;

/// <summary>Source-generated JSON for every type the service reads or writes: no reflection on the hot path (see bench/README.md).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PointResponse))]
[JsonSerializable(typeof(PointResponse[]))]
[JsonSerializable(typeof(UserTotalResponse))]
[JsonSerializable(typeof(AddPointsRequest))]
internal partial class PointsJsonContext : JsonSerializerContext;
