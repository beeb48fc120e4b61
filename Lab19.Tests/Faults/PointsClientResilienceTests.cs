using System.Diagnostics;
using Lab19.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using UserService;

namespace Lab19.Tests;

/// <summary>user-service's bounds on calls to point-service apply to its PointsClient only, not to every HttpClient in the process.</summary>
public class PointsClientResilienceTests
{
    /// <summary>Past the PointsClient's 2 s bound, well before the standard handler's own attempt timeout (10 s).</summary>
    private static readonly TimeSpan StillWaiting = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task The_points_client_gives_up_within_its_bound_while_another_client_keeps_the_library_defaults()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = new FakePointService { Mode = FakePointService.Behaviour.Slow };
        await fake.StartAsync();

        // user-service's own registrations, with service discovery pointed at the fake, plus one more client of the same process.
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["services:point-service:http:0"] = fake.Url;
        builder.AddServiceDefaults();
        builder.AddPointsClient();
        builder.Services.AddHttpClient("other", c => c.BaseAddress = new(fake.Url));
        using var host = builder.Build();

        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<PointServiceUnavailableException>(() => host.Services.GetRequiredService<PointsClient>().GetTotalAsync(1, ct));
        Assert.True(clock.Elapsed < PointsClient.TotalTimeout + TimeSpan.FromSeconds(1), $"the PointsClient gave up after {clock.Elapsed}");

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var other = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("other").GetAsync("/api/v1/points/user/1/total", stop.Token);
        await Task.Delay(StillWaiting, ct);
        Assert.False(other.IsCompleted, $"the other client ended after {StillWaiting.TotalSeconds} s: {(other.IsFaulted ? other.Exception!.GetBaseException().Message : other.Status)}");
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => other);
    }
}
