using System.Text.Json;
using System.Text.Json.Serialization;

namespace UserService;

/// <summary>Source-generated JSON for every type the service reads or writes: no reflection on the hot path (see bench/README.md).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(UserWithPointsDto))]
[JsonSerializable(typeof(UserDto))]
[JsonSerializable(typeof(UserDto[]))]
[JsonSerializable(typeof(CreateUserRequest))]
[JsonSerializable(typeof(PointDto[]))]
[JsonSerializable(typeof(UserTotalDto))]
internal partial class UserJsonContext : JsonSerializerContext;
