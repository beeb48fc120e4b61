using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.MySql;
using Aspire.Hosting.Utils;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aspire.Hosting;

/// <summary>
/// MySQL in a container, with the API of Aspire.Hosting.MySql (AddMySql, AddDatabase, WithDataVolume and the resources' members), which
/// is not on the lab's package source: a reference to that package can replace this folder, and nothing else changes. What the lab needs
/// beyond it (point-service's connection options) is set where point-service opens its connection.
/// </summary>
public static class MySqlBuilderExtensions
{
    private const string PasswordEnvVarName = "MYSQL_ROOT_PASSWORD";

    public static IResourceBuilder<MySqlServerResource> AddMySql(this IDistributedApplicationBuilder builder, string name, IResourceBuilder<ParameterResource>? password = null, int? port = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);

        var passwordParameter = password?.Resource ?? ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password");
        var server = new MySqlServerResource(name, passwordParameter);

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(server, async (_, ct) =>
            connectionString = await server.ConnectionStringExpression.GetValueAsync(ct));
        builder.Eventing.Subscribe<ResourceReadyEvent>(server, (_, ct) =>
            MySqlPingHealthCheck.CreateDatabasesAsync(connectionString!, server.DatabaseResources.Select(d => d.DatabaseName), ct));

        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey, _ => new MySqlPingHealthCheck(() => connectionString), failureStatus: null, tags: null));

        return builder.AddResource(server)
            .WithEndpoint(port: port, targetPort: 3306, name: MySqlServerResource.PrimaryEndpointName) // the container's port is always 3306
            .WithImage(MySqlContainerImageTags.Image, MySqlContainerImageTags.Tag)
            .WithImageRegistry(MySqlContainerImageTags.Registry)
            .WithIconName("DatabaseMultiple")
            .WithEnvironment(context => context.EnvironmentVariables[PasswordEnvVarName] = server.PasswordParameter)
            .WithHealthCheck(healthCheckKey);
    }

    public static IResourceBuilder<MySqlDatabaseResource> AddDatabase(this IResourceBuilder<MySqlServerResource> builder, string name, string? databaseName = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);

        var database = new MySqlDatabaseResource(name, databaseName ?? name, builder.Resource);
        builder.Resource.AddDatabase(database);

        // Healthy once the database exists and answers, so WaitFor(database) waits for more than a running container.
        string? connectionString = null;
        builder.ApplicationBuilder.Eventing.Subscribe<ConnectionStringAvailableEvent>(database, async (_, ct) =>
            connectionString = await database.ConnectionStringExpression.GetValueAsync(ct));
        var healthCheckKey = $"{name}_check";
        builder.ApplicationBuilder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey, _ => new MySqlPingHealthCheck(() => connectionString), failureStatus: null, tags: null));

        return builder.ApplicationBuilder.AddResource(database).WithIconName("Database").WithHealthCheck(healthCheckKey);
    }

    public static IResourceBuilder<MySqlServerResource> WithDataVolume(this IResourceBuilder<MySqlServerResource> builder, string? name = null, bool isReadOnly = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.WithVolume(name ?? VolumeNameGenerator.Generate(builder, "data"), "/var/lib/mysql", isReadOnly);
    }
}
