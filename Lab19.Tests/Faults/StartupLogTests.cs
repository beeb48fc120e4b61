using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>
/// A first start on a new database is not a failure: each service creates its schema, seeds it and becomes ready without one Error
/// line (the dashboard would show a red badge on a newcomer's first run). Checked without the fix: EF's read of the missing history
/// table and every unhealthy readiness check were Errors.
/// </summary>
public class StartupLogTests(SharedDatabases databases)
{
    [Theory]
    [InlineData("UserService")]
    [InlineData("PointService")]
    public async Task A_first_start_on_the_empty_database_the_AppHost_made_logs_no_error(string service)
    {
        // As the AppHost does (containers and local servers alike): the database exists, empty, before the service starts.
        var database = $"startup_{Guid.NewGuid():N}"[..24];
        await (service == "UserService" ? databases.Postgres : databases.MariaDb).CreateDatabaseAsync(database);
        await using var process = await ServiceProcess.StartAsync(service, new Dictionary<string, string>
        {
            [service == "UserService" ? "ConnectionStrings__userdb" : "ConnectionStrings__pointdb"] = service == "UserService"
                ? databases.Postgres.ConnectionString(database)
                : databases.MariaDb.ConnectionString(database),
            ["services__point-service__http__0"] = "http://127.0.0.1:9", // user-service's client is not called here
            ["DOTNET_hostBuilder__reloadConfigOnChange"] = "false",
        });

        // Ready means migrated and seeded; meanwhile the readiness check answered "not migrated yet" and EF read the new database.
        Assert.Contains("database migrated and seeded", process.Output);
        Assert.False(process.Output.Contains("fail:", StringComparison.Ordinal), process.Output);
    }
}
