using Lab19.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;

namespace Lab19.Tests;

/// <summary>The services say where their database is, never with the password.</summary>
[Collection(LabCollection.Name)]
public class ServiceLogTests(LabFixture fixture)
{
    [Fact]
    public async Task The_point_service_log_names_its_database_target_without_the_password()
    {
        var password = new MySqlConnectionStringBuilder(fixture.Databases.MariaDb.ConnectionString(LabFixture.PointDb)).Password;
        Assert.False(string.IsNullOrEmpty(password));

        // provoke some logging of failures too: a bad request and a 404
        await fixture.Lab.Points.GetAsync("/api/v1/points/user/abc", TestContext.Current.CancellationToken);

        var logs = fixture.Lab.App.Services.GetRequiredService<ResourceLoggerService>();
        var lines = new List<string>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(15));
        try
        {
            await foreach (var batch in logs.WatchAsync(fixture.Lab.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == "point-service")).WithCancellation(cts.Token))
            {
                lines.AddRange(batch.Select(l => l.Content));
                if (lines.Any(l => l.Contains("database pointdb on 127.0.0.1"))) break;
            }
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            // the assertion below reports what was seen
        }

        Assert.Contains(lines, l => l.Contains("database pointdb on 127.0.0.1"));
        Assert.DoesNotContain(lines, l => l.Contains(password));
    }
}
