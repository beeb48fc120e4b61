using System.Text.RegularExpressions;
using Lab19.Tests.Infrastructure;
using MySqlConnector;

namespace Lab19.Tests;

/// <summary>
/// Failures as a client sees them: what failed in its own terms (the database, point-service) and a trace id, never a database
/// account, host, port or exception message; the service's log keeps those details under the same trace id.
/// The services run as plain processes (no AppHost), so that a test can give them a wrong password or a point-service that is gone.
/// </summary>
public partial class NoInternalsTests(SharedDatabases databases)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex TraceIdPattern();

    [Fact]
    public async Task With_a_wrong_database_password_point_service_answers_503_without_the_account_or_host_and_logs_why()
    {
        var connection = new MySqlConnectionStringBuilder(databases.MariaDb.ConnectionString("pointdb_internals")) { Password = "wrong" };
        await using var service = await ServiceProcess.StartAsync("PointService", new Dictionary<string, string>
        {
            ["ConnectionStrings__pointdb"] = connection.ConnectionString,
            ["DOTNET_hostBuilder__reloadConfigOnChange"] = "false",
        }, readyPath: "/alive");

        var problem = await Http.AssertProblemAsync(await service.Http.GetAsync("/api/v1/points?limit=1", Ct), HttpStatusCode.ServiceUnavailable);
        Assert.Contains("database", problem.GetProperty("detail").GetString());
        Assert.Matches(TraceIdPattern(), problem.GetProperty("traceId").GetString());
        // the details are in the log
        Assert.Contains($"Access denied for user '{connection.UserID}'@'127.0.0.1'", service.Output);
    }

    [Fact]
    public async Task With_point_service_gone_user_service_answers_503_naming_it_without_its_address_and_logs_the_address_under_the_trace_id()
    {
        var gone = DatabaseServer.FreePort(); // nothing listens there
        await using var service = await ServiceProcess.StartAsync("UserService", new Dictionary<string, string>
        {
            ["ConnectionStrings__userdb"] = databases.Postgres.ConnectionString("userdb_internals"),
            ["services__point-service__http__0"] = $"http://127.0.0.1:{gone}",
            ["DOTNET_hostBuilder__reloadConfigOnChange"] = "false",
        });

        var response = await service.Http.GetAsync("/api/v1/users/1", Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        var problem = await Http.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.DoesNotContain(gone.ToString(System.Globalization.CultureInfo.InvariantCulture), body);
        Assert.Contains("point-service", problem.GetProperty("detail").GetString());
        var traceId = problem.GetProperty("traceId").GetString()!;
        Assert.Matches(TraceIdPattern(), traceId);
        Assert.Equal(["2"], response.Headers.GetValues("Retry-After"));

        // the log line with this trace id says where the call went and why it failed
        await WaitUntilAsync(() => service.Output.Contains(traceId));
        Assert.Contains(service.Output.Split('\n').SkipWhile(l => !l.Contains(traceId)).Take(2), l => l.Contains($"127.0.0.1:{gone}"));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; !condition(); i++)
        {
            Assert.True(i < 100, "not logged within 10 s");
            await Task.Delay(100, Ct);
        }
    }
}
