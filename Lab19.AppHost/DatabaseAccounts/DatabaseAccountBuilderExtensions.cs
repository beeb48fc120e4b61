using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MySqlConnector;

namespace Lab19.AppHost;

/// <summary>
/// Gives a service an account of its own on its MySQL or MariaDB database instead of root. The account is made with SQL by root once
/// the server answers, in the container and on a local server alike: the mysql image's MYSQL_USER would do it only when its data volume
/// is new, and a lab run before would never get the account.
/// </summary>
internal static class DatabaseAccountBuilderExtensions
{
    /// <summary>An account <paramref name="userName"/> with all rights on the MySQL container's database, and none elsewhere.</summary>
    public static IResourceBuilder<DatabaseAccountResource> AddAccount(this IResourceBuilder<MySqlDatabaseResource> database, string name, string userName) =>
        database.ApplicationBuilder.AddAccount(name, userName, database.Resource, database.Resource.DatabaseName, database.Resource.Parent, database.Resource.Parent.PrimaryEndpoint);

    /// <summary>The same on a MariaDB or MySQL server run from the host's binaries.</summary>
    public static IResourceBuilder<DatabaseAccountResource> AddAccount(this IResourceBuilder<LocalDatabaseResource> database, string name, string userName) =>
        database.Resource.Parent is LocalMySqlServerResource server
            ? database.ApplicationBuilder.AddAccount(name, userName, database.Resource, database.Resource.DatabaseName, server, server.PrimaryEndpoint)
            : throw new ArgumentException($"{database.Resource.Name} is not a MySQL database.", nameof(database));

    private static IResourceBuilder<DatabaseAccountResource> AddAccount(this IDistributedApplicationBuilder builder, string name, string userName,
        IResourceWithConnectionString database, string databaseName, IResourceWithConnectionString server, EndpointReference endpoint)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(userName);

        var password = ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password");
        var account = new DatabaseAccountResource(name, userName, password, database, databaseName, endpoint);

        builder.Eventing.Subscribe<ResourceReadyEvent>(server, async (_, ct) =>
        {
            await using var root = new MySqlConnection(await server.GetConnectionStringAsync(ct));
            await root.OpenAsync(ct);
            await using var command = root.CreateCommand();
            var user = $"'{MySqlHelper.EscapeString(userName)}'@'%'";
            var secret = MySqlHelper.EscapeString(await password.GetValueAsync(ct) ?? throw new InvalidOperationException($"{password.Name} has no value."));
            var schema = new MySqlCommandBuilder().QuoteIdentifier(databaseName);
            // The database first: it is made on the same event, and a grant needs it. The password of this run, every run.
            command.CommandText = $"""
                CREATE DATABASE IF NOT EXISTS {schema};
                CREATE USER IF NOT EXISTS {user} IDENTIFIED BY '{secret}';
                ALTER USER {user} IDENTIFIED BY '{secret}';
                GRANT ALL PRIVILEGES ON {schema}.* TO {user};
                """;
            await command.ExecuteNonQueryAsync(ct);
        });

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(account, async (_, ct) => connectionString = await account.ConnectionStringExpression.GetValueAsync(ct));
        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheckKey, _ => new MySqlPingHealthCheck(() => connectionString), failureStatus: null, tags: null));

        return builder.AddResource(account).WithIconName("Person").WithHealthCheck(healthCheckKey).WithStateOfParent();
    }
}
