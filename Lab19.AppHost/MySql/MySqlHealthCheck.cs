using Microsoft.Extensions.Diagnostics.HealthChecks;
using MySqlConnector;

namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// Healthy when a MySqlConnector connection opens and answers a ping (no maintained health-check package targets MySqlConnector 2.x).
/// Used by the MySQL container and by a MySQL or MariaDB server run from the host's binaries.
/// </summary>
internal sealed class MySqlPingHealthCheck(Func<string?> connectionString) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (connectionString() is not { } cs)
        {
            return HealthCheckResult.Unhealthy("The connection string is not known yet.");
        }
        try
        {
            await using var connection = new MySqlConnection(cs);
            await connection.OpenAsync(cancellationToken);
            return await connection.PingAsync(cancellationToken) ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("No answer to ping.");
        }
        catch (MySqlException e)
        {
            return HealthCheckResult.Unhealthy(e.Message, e);
        }
    }

    /// <summary>Creates each database that does not exist yet, once the server answers (as Aspire's PostgreSQL integration does for its databases).</summary>
    public static async Task CreateDatabasesAsync(string serverConnectionString, IEnumerable<string> databaseNames, CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(serverConnectionString);
        await connection.OpenAsync(cancellationToken);
        foreach (var database in databaseNames)
        {
            await using var create = connection.CreateCommand();
            create.CommandText = $"CREATE DATABASE IF NOT EXISTS {new MySqlCommandBuilder().QuoteIdentifier(database)};";
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
