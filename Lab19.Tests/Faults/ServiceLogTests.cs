using System.Data.Common;
using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>The services say where their database is, never with the password.</summary>
[Collection(LabCollection.Name)]
public class ServiceLogTests(LabFixture fixture)
{
    [Theory]
    [InlineData("point-service", LabFixture.PointDb)]
    [InlineData("user-service", LabFixture.UserDb)]
    public async Task A_service_log_names_its_database_target_without_the_password(string service, string database)
    {
        var server = service == "point-service" ? fixture.Databases.MariaDb : fixture.Databases.Postgres;
        var password = (string)new DbConnectionStringBuilder { ConnectionString = server.ConnectionString(database) }["Password"];
        Assert.False(string.IsNullOrEmpty(password), "the test database has no password, so this test would prove nothing");

        // provoke some logging of failures too: a bad request and a 404
        var client = service == "point-service" ? fixture.Lab.Points : fixture.Lab.Users;
        await client.GetAsync(service == "point-service" ? "/api/v1/points/user/abc" : "/api/v1/users/abc", TestContext.Current.CancellationToken);

        var target = $"database {database} on "; // followed by the server: "127.0.0.1", or Npgsql's "tcp://127.0.0.1:port"
        var lines = await fixture.Lab.LogLinesAsync(service, seen => seen.Any(l => l.Contains(target)));

        Assert.Contains(lines, l => l.Contains(target)); // once per start of the service (other tests restart it)
        Assert.All(lines.Where(l => l.Contains(target)), l => Assert.Contains("127.0.0.1", l));
        Assert.DoesNotContain(lines, l => l.Contains(password));
    }
}
