using System.Text.Json;
using System.Text.Json.Serialization;

namespace PointService;

/// <summary>Source-generated JSON for every type the service reads or writes: no reflection on the hot path (see bench/README.md).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PointDto))]
[JsonSerializable(typeof(PointDto[]))]
[JsonSerializable(typeof(UserTotalDto))]
[JsonSerializable(typeof(AddPointsRequest))]
internal partial class PointJsonContext : JsonSerializerContext;
