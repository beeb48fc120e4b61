using System.Text.Json;
using System.Text.Json.Serialization;

namespace UserService.Contracts;

/// <summary>Source-generated JSON for every type the service reads or writes: no reflection on the hot path (see bench/README.md).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(UserWithPointsResponse))]
[JsonSerializable(typeof(UserResponse))]
[JsonSerializable(typeof(UserResponse[]))]
[JsonSerializable(typeof(CreateUserRequest))]
[JsonSerializable(typeof(PointResponse[]))]
[JsonSerializable(typeof(UserTotalResponse))]
internal partial class UsersJsonContext : JsonSerializerContext;
