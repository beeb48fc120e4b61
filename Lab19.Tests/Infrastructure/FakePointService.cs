// FakePointService: a stand-in point-service whose behaviour a test sets (healthy, slow, failing, garbage), for user-service's fault tests.
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Lab19.Tests.Infrastructure;

/// <summary>A stand-in for point-service whose behaviour a test sets: healthy, slow, failing or talking nonsense.</summary>
public sealed class FakePointService : IAsyncDisposable
{
    public enum Behaviour { Healthy, Slow, Failing, Garbage }

    public const long Total = 4242;
    public static readonly TimeSpan SlowDelay = TimeSpan.FromSeconds(10);

    private readonly WebApplication _app;
    private int _calls;
    private readonly ConcurrentQueue<string?> _traceparents = new();

    public FakePointService()
    {
        Port = DatabaseServer.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{Port}");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Use(async (context, next) =>
        {
            Interlocked.Increment(ref _calls);
            _traceparents.Enqueue(context.Request.Headers.TryGetValue("traceparent", out var traceparent) ? traceparent.ToString() : null);
            switch (Mode)
            {
                case Behaviour.Slow:
                    await Task.Delay(SlowDelay, context.RequestAborted).ContinueWith(_ => { });
                    break;
                case Behaviour.Failing:
                    context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                    return;
                case Behaviour.Garbage:
                    await context.Response.WriteAsync("<html>not json</html>");
                    return;
            }
            await next(context);
        });
        _app.MapGet("/api/v1/points/user/{userId:int}/total", (int userId) => new { userId, total = Total });
        _app.MapGet("/api/v1/points/user/{userId:int}", (int userId) => new[] { new { id = 1, userId, points = (int)Total, reason = "fake", createdAt = DateTime.UnixEpoch } });
    }

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}";
    public Behaviour Mode { get; set; }
    public int Calls => Volatile.Read(ref _calls);
    /// <summary>The <c>traceparent</c> header of every call so far, in arrival order (null: the call had none).</summary>
    public IReadOnlyList<string?> Traceparents => [.. _traceparents];

    public Task StartAsync() => _app.StartAsync();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
