using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Lab19.AppHost;

/// <summary>
/// PostgreSQL and MariaDB/MySQL run from the host's own binaries, with the shape of their container counterparts: AddLocalPostgres and
/// AddLocalMySql (a generated password parameter, a health check), AddDatabase (created once the server answers, with its own health
/// check), and a data directory that outlives the run as a container volume does.
/// </summary>
internal static class LocalDatabaseBuilderExtensions
{
    public static IResourceBuilder<LocalDatabaseServerResource> AddLocalPostgres(this IDistributedApplicationBuilder builder, string name, IResourceBuilder<ParameterResource>? password = null)
    {
        var probe = HostProbes.Current;
        var server = new LocalPostgresServerResource(name, PasswordOf(builder, name, password), builder.AppHostDirectory, new(() => LocalPostgres.Find(probe)))
        {
            DataDirectory = DefaultDirectory(builder, name),
        };

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(server, async (_, ct) => connectionString = await server.ConnectionStringExpression.GetValueAsync(ct));
        builder.Eventing.Subscribe<ResourceReadyEvent>(server, async (_, ct) =>
        {
            await using var connection = new NpgsqlConnection(connectionString + ";Database=postgres");
            await connection.OpenAsync(ct);
            foreach (var database in server.Databases)
            {
                await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = database.DatabaseName } } };
                if (await exists.ExecuteScalarAsync(ct) is not null) continue;
                await using var create = new NpgsqlCommand($"CREATE DATABASE {new NpgsqlCommandBuilder().QuoteIdentifier(database.DatabaseName)}", connection);
                await create.ExecuteNonQueryAsync(ct);
            }
        });

        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddNpgSql(_ => (connectionString ?? throw new InvalidOperationException("The connection string is not known yet.")) + ";Database=postgres", name: healthCheckKey);
        return builder.AddLocalServer<LocalDatabaseServerResource>(server).WithHealthCheck(healthCheckKey);
    }

    public static IResourceBuilder<LocalDatabaseServerResource> AddLocalMySql(this IDistributedApplicationBuilder builder, string name, IResourceBuilder<ParameterResource>? password = null)
    {
        var probe = HostProbes.Current;
        var server = new LocalMySqlServerResource(name, PasswordOf(builder, name, password), builder.AppHostDirectory, new(() => LocalMySql.Find(probe)))
        {
            DataDirectory = DefaultDirectory(builder, name),
        };

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(server, async (_, ct) => connectionString = await server.ConnectionStringExpression.GetValueAsync(ct));
        builder.Eventing.Subscribe<ResourceReadyEvent>(server, (_, ct) =>
            MySqlPingHealthCheck.CreateDatabasesAsync(connectionString!, server.Databases.Select(d => d.DatabaseName), ct));

        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheckKey, _ => new MySqlPingHealthCheck(() => connectionString), failureStatus: null, tags: null));
        return builder.AddLocalServer<LocalDatabaseServerResource>(server).WithHealthCheck(healthCheckKey);
    }

    /// <summary>A database on the server, created when the server answers; healthy once it exists and answers.</summary>
    public static IResourceBuilder<LocalDatabaseResource> AddDatabase(this IResourceBuilder<LocalDatabaseServerResource> builder, string name, string? databaseName = null)
    {
        var database = new LocalDatabaseResource(name, databaseName ?? name, builder.Resource);
        builder.Resource.Databases.Add(database);

        string? connectionString = null;
        builder.ApplicationBuilder.Eventing.Subscribe<ConnectionStringAvailableEvent>(database, async (_, ct) =>
            connectionString = await database.ConnectionStringExpression.GetValueAsync(ct));
        var healthCheckKey = $"{name}_check";
        var healthChecks = builder.ApplicationBuilder.Services.AddHealthChecks();
        _ = builder.Resource is LocalPostgresServerResource
            ? healthChecks.AddNpgSql(_ => connectionString ?? throw new InvalidOperationException("The connection string is not known yet."), name: healthCheckKey)
            : healthChecks.Add(new HealthCheckRegistration(healthCheckKey, _ => new MySqlPingHealthCheck(() => connectionString), failureStatus: null, tags: null));

        return builder.ApplicationBuilder.AddResource(database)
            .WithIconName("Database")
            .WithHealthCheck(healthCheckKey)
            .WithStateOfParent();
    }

    /// <summary>Keeps the server's files in <paramref name="directory"/> (relative to the AppHost's directory) instead of the user's data folder.</summary>
    public static IResourceBuilder<LocalDatabaseServerResource> WithDataDirectory(this IResourceBuilder<LocalDatabaseServerResource> builder, string directory)
    {
        builder.Resource.DataDirectory = Path.GetFullPath(directory, builder.ApplicationBuilder.AppHostDirectory);
        return builder;
    }

    /// <summary>
    /// Each start: a server left running by a crashed run is stopped (one another AppHost runs is refused), the data directory is made
    /// on the first start, and the server is told this run's password; then the orchestrator starts it, in the foreground, its output
    /// the resource's console. After a stop, a server that outlived its shell is stopped too.
    /// </summary>
    private static IResourceBuilder<T> AddLocalServer<T>(this IDistributedApplicationBuilder builder, T server) where T : LocalDatabaseServerResource
    {
        var probe = HostProbes.Current;
        string Directory() => BinariesOf(server).Locate(server.DataDirectory, probe);

        // The orchestrator stops the server's shell, which stops the server; if the shell dies first, the server must not live on.
        async Task<bool> StopServerOfThisRunAsync()
        {
            var stopped = server.ServerPid is { } pid && await BinariesOf(server).StopIfStillRunningAsync(Directory(), pid, CancellationToken.None);
            server.ServerPid = null;
            return stopped;
        }

        builder.Eventing.Subscribe<ResourceReadyEvent>(server, (_, _) =>
        {
            using var process = BinariesOf(server).RunningServer(Directory());
            server.ServerPid = process?.Id;
            return Task.CompletedTask;
        });
        builder.Eventing.Subscribe<AfterResourcesCreatedEvent>((e, _) =>
        {
            // Last: once the orchestrator has stopped everything, at Ctrl+C or when the AppHost is stopped.
            e.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped.Register(() => StopServerOfThisRunAsync().GetAwaiter().GetResult());
            return Task.CompletedTask;
        });

        return builder.AddResource(server)
            .WithEndpoint(name: LocalDatabaseServerResource.PrimaryEndpointName, scheme: "tcp")
            .WithIconName("DatabaseMultiple")
            .WithArgs(context =>
            {
                foreach (var arg in BinariesOf(server).ServerArguments(Directory(), server.PrimaryEndpoint.Property(EndpointProperty.TargetPort)))
                {
                    context.Args.Add(arg);
                }
            })
            .OnBeforeResourceStarted(async (resource, e, ct) =>
            {
                var logger = e.Services.GetRequiredService<ResourceLoggerService>().GetLogger(resource);
                try
                {
                    var binaries = BinariesOf(resource);
                    var directory = Directory();
                    if (await binaries.ClaimAsync(directory, resource.Owner, ct) is { } leftover)
                    {
                        logger.LogWarning("Stopped the server (pid {Pid}) that an earlier run of the lab left running on {Directory}.", leftover, directory);
                    }
                    logger.LogInformation("{Server}; its files are in {Directory}.", resource.SearchDetail, directory);
                    var password = await resource.PasswordParameter.GetValueAsync(ct) ?? throw new InvalidOperationException($"{resource.PasswordParameter.Name} has no value.");
                    await binaries.PrepareAsync(directory, password, ct);
                }
                catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException)
                {
                    logger.LogError("{Resource} cannot start: {Reason}", resource.Name, ex.Message);
                    throw;
                }
            })
            .OnResourceStopped(async (resource, e, _) =>
            {
                if (await StopServerOfThisRunAsync())
                {
                    e.Services.GetRequiredService<ResourceLoggerService>().GetLogger(resource).LogWarning("Stopped the server, still running after its resource stopped.");
                }
            });
    }

    private static LocalServer BinariesOf(LocalDatabaseServerResource server) =>
        server.Binaries ?? throw new InvalidOperationException($"{server.Name} cannot run here: {server.SearchDetail}.");

    private static ParameterResource PasswordOf(IDistributedApplicationBuilder builder, string name, IResourceBuilder<ParameterResource>? password) =>
        password?.Resource ?? ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password");

    private static string DefaultDirectory(IDistributedApplicationBuilder builder, string name) =>
        Path.Combine(LocalServer.DefaultDataRoot(builder.AppHostDirectory), name);
}
