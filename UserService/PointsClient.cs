using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Http.Resilience;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace UserService;

public record PointDto(long Id, int UserId, int Points, string? Reason, DateTime CreatedAt);

public record UserTotalDto(int UserId, long Total);

/// <summary>point-service could not give an answer: down, too slow, or failing.</summary>
public sealed class PointServiceUnavailableException(string reason, Exception? inner = null) : Exception(reason, inner);

/// <summary>Typed client for point-service; its address comes from Aspire service discovery, retries and timeouts from ServiceDefaults.</summary>
public sealed class PointsClient(HttpClient http)
{
    public const int RecentLimit = 10;

    /// <summary>Every call to point-service, retries included, ends within this time.</summary>
    public static readonly TimeSpan TotalTimeout = TimeSpan.FromSeconds(2);

    public static void BoundResilience(HttpStandardResilienceOptions o)
    {
        o.TotalRequestTimeout.Timeout = TotalTimeout;
        o.AttemptTimeout.Timeout = TimeSpan.FromSeconds(1);
        o.Retry.MaxRetryAttempts = 2;
        o.Retry.Delay = TimeSpan.FromMilliseconds(100);
    }

    public Task<UserTotalDto> GetTotalAsync(int userId, CancellationToken ct) =>
        GetAsync($"/api/v1/points/user/{userId}/total", UserJsonContext.Default.UserTotalDto, ct);

    public Task<PointDto[]> GetRecentAsync(int userId, CancellationToken ct) =>
        GetAsync($"/api/v1/points/user/{userId}?limit={RecentLimit}", UserJsonContext.Default.PointDtoArray, ct);

    private async Task<T> GetAsync<T>(string path, JsonTypeInfo<T> json, CancellationToken ct)
    {
        try
        {
            using var response = await http.GetAsync(path, ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new PointServiceUnavailableException($"point-service answered {(int)response.StatusCode} to GET {path}.");
            }
            return await response.Content.ReadFromJsonAsync(json, ct)
                ?? throw new PointServiceUnavailableException($"point-service sent an empty body to GET {path}.");
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException or BrokenCircuitException or System.Text.Json.JsonException
                                  || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            throw new PointServiceUnavailableException($"point-service did not answer GET {path}: {e.Message}", e);
        }
    }
}
