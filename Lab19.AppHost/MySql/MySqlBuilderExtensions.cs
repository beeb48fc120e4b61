using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Utils;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aspire.Hosting;

/// <summary>
/// MySQL for the lab. Aspire.Hosting.MySql is not used: this resource has the same API shape (AddMySql, AddDatabase,
/// WithDataVolume), so that package can replace this folder.
/// </summary>
public static class MySqlBuilderExtensions
{
    public const string Image = "library/mysql";
    public const string Tag = "8.4";

    public static IResourceBuilder<MySqlServerResource> AddMySql(this IDistributedApplicationBuilder builder, string name, IResourceBuilder<ParameterResource>? password = null, int? port = null)
    {
        var passwordParameter = password?.Resource ?? ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password");
        var server = new MySqlServerResource(name, passwordParameter);

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(server, async (_, ct) =>
            connectionString = await server.ConnectionStringExpression.GetValueAsync(ct));
        builder.Eventing.Subscribe<ResourceReadyEvent>(server, (_, ct) =>
            MySqlPingHealthCheck.CreateDatabasesAsync(connectionString!, server.Databases.Select(d => d.DatabaseName), ct));

        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey, _ => new MySqlPingHealthCheck(() => connectionString), failureStatus: null, tags: null));

        return builder.AddResource(server)
            .WithEndpoint(port: port, targetPort: 3306, name: MySqlServerResource.PrimaryEndpointName)
            .WithImage(Image, Tag)
            .WithImageRegistry("docker.io")
            .WithEnvironment(context => context.EnvironmentVariables["MYSQL_ROOT_PASSWORD"] = server.PasswordParameter)
            .WithHealthCheck(healthCheckKey);
    }

    public static IResourceBuilder<MySqlDatabaseResource> AddDatabase(this IResourceBuilder<MySqlServerResource> builder, string name, string? databaseName = null)
    {
        var database = new MySqlDatabaseResource(name, databaseName ?? name, builder.Resource);
        builder.Resource.AddDatabase(database);

        // Healthy once the database exists and answers, so WaitFor(database) waits for more than a running container.
        string? connectionString = null;
        builder.ApplicationBuilder.Eventing.Subscribe<ConnectionStringAvailableEvent>(database, async (_, ct) =>
            connectionString = await database.ConnectionStringExpression.GetValueAsync(ct));
        var healthCheckKey = $"{name}_check";
        builder.ApplicationBuilder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey, _ => new MySqlPingHealthCheck(() => connectionString), failureStatus: null, tags: null));

        return builder.ApplicationBuilder.AddResource(database).WithHealthCheck(healthCheckKey);
    }

    public static IResourceBuilder<MySqlServerResource> WithDataVolume(this IResourceBuilder<MySqlServerResource> builder, string? name = null) =>
        builder.WithVolume(name ?? VolumeNameGenerator.Generate(builder, "data"), "/var/lib/mysql");
}
