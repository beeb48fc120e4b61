using System.Text.Json.Serialization.Metadata;
using Lab19.ServiceDefaults;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using UserService.Contracts;

namespace UserService;

/// <summary>point-service could not give an answer: down, too slow, or failing (the client has logged why).</summary>
public sealed class PointServiceUnavailableException(string reason, Exception? inner = null) : Exception(reason, inner);

/// <summary>
/// Typed client for point-service: service discovery resolves <c>http://point-service</c>, and this client's own standard resilience
/// handler bounds each call (total 2 s, 1 s per attempt, 2 retries); any failure becomes a <see cref="PointServiceUnavailableException"/>.
/// </summary>
public sealed class PointsClient(HttpClient http, ILogger<PointsClient> logger)
{
    public const int RecentLimit = 10;

    /// <summary>Every call to point-service, retries included, ends within this time.</summary>
    public static readonly TimeSpan TotalTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The bounds of this client's standard resilience handler (the library's defaults would let a call take 30 s).</summary>
    public static void BoundResilience(HttpStandardResilienceOptions o)
    {
        o.TotalRequestTimeout.Timeout = TotalTimeout;
        o.AttemptTimeout.Timeout = TimeSpan.FromSeconds(1);
        o.Retry.MaxRetryAttempts = 2;
        o.Retry.Delay = TimeSpan.FromMilliseconds(100);
    }

    public Task<UserTotalResponse> GetTotalAsync(int userId, CancellationToken ct) =>
        GetAsync($"/api/v1/points/user/{userId}/total", UsersJsonContext.Default.UserTotalResponse, ct);

    public Task<PointResponse[]> GetRecentAsync(int userId, CancellationToken ct) =>
        GetAsync($"/api/v1/points/user/{userId}?limit={RecentLimit}", UsersJsonContext.Default.PointResponseArray, ct);

    private async Task<T> GetAsync<T>(string path, JsonTypeInfo<T> json, CancellationToken ct)
    {
        try
        {
            // The JSON is read from the connection as it arrives, not first copied into a buffer (HttpClient's default); the body
            // was never within the resilience handler's bounds either way: HttpClient reads it after the handlers return.
            using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, ct);
            if (!response.IsSuccessStatusCode)
            {
                throw Unavailable(path, $"it answered {(int)response.StatusCode}");
            }
            return await response.Content.ReadFromJsonAsync(json, ct) ?? throw Unavailable(path, "it sent an empty body");
        }
        // ExecutionRejectedException: any strategy of the resilience handler that refused the call (timeout, open circuit, rate limiter).
        catch (Exception e) when (e is HttpRequestException or ExecutionRejectedException or System.Text.Json.JsonException or IOException
                                  || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            throw Unavailable(path, $"{e.GetType().Name}: {e.Message}", e); // the message may name point-service's host and port: logged only
        }
    }

    private PointServiceUnavailableException Unavailable(string path, string reason, Exception? inner = null)
    {
        logger.LogWarning("point-service gave no answer to GET {Path} (trace {TraceId}): {Reason}", path, TraceIds.Current(null), reason);
        return new PointServiceUnavailableException($"point-service gave no answer to GET {path}.", inner);
    }
}

public static class PointsClientExtensions
{
    /// <summary>Registers <see cref="PointsClient"/> with its bounded resilience handler; every other HttpClient keeps ServiceDefaults' standard one.</summary>
    public static IHostApplicationBuilder AddPointsClient(this IHostApplicationBuilder builder)
    {
        var client = builder.Services.AddHttpClient<PointsClient>(c => c.BaseAddress = new("http://point-service"));
        // No per-call HttpClient logs (they cost about a tenth of the throughput); Polly still logs retries and failures.
        client.RemoveAllLoggers();
        // ServiceDefaults' handler is one pipeline shared by every client (ConfigureHttpClientDefaults names no client), so its
        // options cannot be set for this client alone: this client gets its own handler in its place, not a second one.
#pragma warning disable EXTEXP0001 // marked experimental; it is the library's way to replace a handler that ConfigureHttpClientDefaults added
        client.RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        client.AddStandardResilienceHandler(PointsClient.BoundResilience);
        return builder;
    }
}
