// Http: requests to the lab's API, assertions on its answers (ProblemDetails without internals), and the DTOs tests read.
using System.Text;
using System.Text.Json;

namespace Lab19.Tests.Infrastructure;

/// <summary>Requests to the lab's API and assertions on its answers.</summary>
public static class Http
{
    /// <summary>UTF-8 <paramref name="json"/>; a <paramref name="mediaType"/> with parameters ("application/json; charset=bogus") is sent exactly as given.</summary>
    public static StringContent Json(string json, string mediaType = "application/json")
    {
        if (!mediaType.Contains(';'))
        {
            return new(json, Encoding.UTF8, mediaType);
        }
        var content = new StringContent(json, Encoding.UTF8);
        content.Headers.Remove("Content-Type");
        Assert.True(content.Headers.TryAddWithoutValidation("Content-Type", mediaType));
        return content;
    }

    public static StringContent Json(object value) => Json(JsonSerializer.Serialize(value, JsonSerializerOptions.Web));

    /// <summary>Asserts a ProblemDetails answer with <paramref name="status"/> that gives away no stack trace or SQL, and returns it.</summary>
    public static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        AssertNoInternals(body);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        return problem;
    }

    /// <summary>No stack trace, SQL, driver, host address or database account in an answer.</summary>
    public static void AssertNoInternals(string body)
    {
        foreach (var leak in new[] { "   at ", "Exception", "SELECT ", "INSERT ", "StackTrace", "Npgsql", "MySqlConnector", "127.0.0.1", "localhost", "Access denied", "'lab'" })
        {
            Assert.DoesNotContain(leak, body, StringComparison.Ordinal);
        }
    }

    public static async Task<T> ReadAsync<T>(this HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<T>(body, JsonSerializerOptions.Web)!;
    }

    public static HttpRequestMessage Request(HttpMethod method, string path, HttpContent? content = null) =>
        new(method, path) { Content = content };

    /// <summary>
    /// Sends <paramref name="count"/> requests (<paramref name="send"/> gets each one's number and its token), 32 at a time, from clients
    /// that each hang up after a random 1 ms to <paramref name="maxMilliseconds"/>: their requests end while a service is anywhere in its
    /// work. Returns how many hung up before their answer.
    /// </summary>
    public static async Task<int> HangUpAsync(int count, int maxMilliseconds, Func<int, CancellationToken, Task<HttpResponseMessage>> send)
    {
        var hungUp = 0;
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = TestContext.Current.CancellationToken }, async (i, ct) =>
        {
            using var hangUp = CancellationTokenSource.CreateLinkedTokenSource(ct);
            hangUp.CancelAfter(TimeSpan.FromMilliseconds(Random.Shared.Next(1, maxMilliseconds)));
            try
            {
                (await send(i, hangUp.Token)).Dispose();
            }
            catch (OperationCanceledException) when (hangUp.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                Interlocked.Increment(ref hungUp); // the client went away, as meant
            }
        });
        return hungUp;
    }

    /// <summary><c>POST /api/v1/points</c> with <paramref name="body"/>, and with an <c>Idempotency-Key</c> header sent as is when <paramref name="key"/> is given.</summary>
    public static HttpRequestMessage AddPoints(object body, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/points") { Content = body as HttpContent ?? Json(body) };
        if (key is not null)
        {
            Assert.True(request.Headers.TryAddWithoutValidation("Idempotency-Key", key));
        }
        return request;
    }
}

public record PointDto(long Id, int UserId, int Points, string? Reason, DateTime CreatedAt);
public record UserTotalDto(int UserId, long Total);
public record UserDto(int Id, string Name, string Email, DateTime CreatedAt);
public record UserWithPointsDto(int Id, string Name, string Email, DateTime CreatedAt, long TotalPoints, PointDto[] RecentPoints);
