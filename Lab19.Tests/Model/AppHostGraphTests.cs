using static Lab19.Tests.Infrastructure.AppModel;

namespace Lab19.Tests;

/// <summary>The AppHost's resource graph, built without starting anything: which resources, their images, edges, health checks, passwords and database wiring.</summary>
public class AppHostGraphTests
{
    [Fact]
    public async Task Every_resource_exists_with_its_pinned_image()
    {
        await using var builder = await ModelAsync();

        Assert.Equal(
            ["beyla", "k6", "lgtm", "point-db", "point-service", "point-service-account", "pointdb", "user-db", "user-service", "userdb"],
            // Aspire 13 adds a hidden "<project>-rebuilder" resource per project; it is not part of the lab's diagram.
            builder.Resources.Where(r => r is not ParameterResource && !r.Name.EndsWith("-rebuilder", StringComparison.Ordinal)).Select(r => r.Name).Order());
        Assert.IsType<PostgresServerResource>(Resource(builder, "user-db"));
        Assert.StartsWith("docker.io/library/postgres:", ImageOf(Resource(builder, "user-db")));
        Assert.Equal("userdb", Assert.IsType<PostgresDatabaseResource>(Resource(builder, "userdb")).DatabaseName);
        Assert.Equal("docker.io/library/mysql:8.4", ImageOf(Resource(builder, "point-db")));
        Assert.Equal("pointdb", Assert.IsType<MySqlDatabaseResource>(Resource(builder, "pointdb")).DatabaseName);
        Assert.Equal("docker.io/grafana/otel-lgtm:0.31.0", ImageOf(Resource(builder, "lgtm")));
        Assert.Equal("docker.io/grafana/beyla:3.33.0", ImageOf(Resource(builder, "beyla")));
        Assert.Equal("docker.io/grafana/k6:1.8.1", ImageOf(Resource(builder, "k6")));
        Assert.IsType<ProjectResource>(Resource(builder, "user-service"));
        Assert.IsType<ProjectResource>(Resource(builder, "point-service"));
    }

    [Fact]
    public async Task The_dependency_edges_are_exactly_the_lab_diagram()
    {
        await using var builder = await ModelAsync();

        var edges = builder.Resources
            .SelectMany(r => r.Annotations.OfType<WaitAnnotation>().Select(w => $"{r.Name} -> {w.Resource.Name}"))
            .Order().ToList();
        Assert.Equal(
            // WaitFor(database) also waits for its server: Aspire adds that edge itself.
            ["beyla -> lgtm", "k6 -> lgtm", "k6 -> point-service", "k6 -> user-service",
             "point-service -> point-db", "point-service -> point-service-account", "point-service -> pointdb",
             "user-service -> point-service", "user-service -> user-db", "user-service -> userdb"],
            edges);

        // every wait of a service is also a reference (connection string or service discovery)
        var userServiceEnv = await PublishEnvironmentAsync(Resource(builder, "user-service"));
        Assert.Contains("ConnectionStrings__userdb", userServiceEnv.Keys);
        Assert.Contains("services__point-service__http__0", userServiceEnv.Keys);
        Assert.Contains("ConnectionStrings__pointdb", (await PublishEnvironmentAsync(Resource(builder, "point-service"))).Keys);
    }

    [Fact]
    public async Task Point_service_logs_in_with_an_account_of_its_own_not_as_root()
    {
        await using var builder = await ModelAsync();

        var account = Assert.IsType<DatabaseAccountResource>(Resource(builder, "point-service-account"));
        Assert.Equal(("point_service", "pointdb", "pointdb"), (account.UserName, account.DatabaseName, account.Parent.Name));
        Assert.True(account.PasswordParameter.Secret);
        Assert.Equal("{point-service-account.connectionString}", (await PublishEnvironmentAsync(Resource(builder, "point-service")))["ConnectionStrings__pointdb"], ignoreCase: true);
        var expression = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = account.ConnectionStringExpression.ValueExpression };
        Assert.Equal(("point_service", "{point-service-account-password.value}", "pointdb"), ((string)expression["User ID"], (string)expression["Password"], (string)expression["Database"]));
    }

    [Fact]
    public async Task Databases_services_and_lgtm_have_health_checks_and_passwords_are_generated_parameters()
    {
        await using var builder = await ModelAsync();

        foreach (var name in new[] { "user-db", "userdb", "point-db", "pointdb", "point-service", "user-service", "lgtm" })
        {
            Assert.True(Resource(builder, name).Annotations.OfType<HealthCheckAnnotation>().Any(), $"{name} has no health check");
        }

        var mysqlPassword = Assert.IsType<MySqlServerResource>(Resource(builder, "point-db")).PasswordParameter;
        Assert.True(mysqlPassword.Secret);
        Assert.Equal("{point-db-password.value}", (await PublishEnvironmentAsync(Resource(builder, "point-db")))["MYSQL_ROOT_PASSWORD"]);
        Assert.True(Assert.IsType<PostgresServerResource>(Resource(builder, "user-db")).PasswordParameter.Secret);
        Assert.Contains(Resource(builder, "point-db").Annotations.OfType<ContainerMountAnnotation>(), m => m.Type == ContainerMountType.Volume && m.Target == "/var/lib/mysql");
        Assert.Contains(Resource(builder, "user-db").Annotations.OfType<ContainerMountAnnotation>(), m => m.Type == ContainerMountType.Volume);
    }

    [Fact]
    public async Task Configured_connection_strings_replace_the_database_containers()
    {
        await using var builder = await ModelAsync($"--ConnectionStrings:userdb={UserDb}", $"--ConnectionStrings:pointdb={PointDb}");

        Assert.DoesNotContain(builder.Resources, r => r.Name is "user-db" or "point-db");
        foreach (var name in new[] { "userdb", "pointdb" })
        {
            // AddConnectionString: a parameter holding the configured value, no container behind it.
            Assert.IsAssignableFrom<ParameterResource>(Resource(builder, name));
            Assert.IsAssignableFrom<IResourceWithConnectionString>(Resource(builder, name));
        }
        Assert.Contains(Resource(builder, "point-service").Annotations.OfType<WaitAnnotation>(), w => w.Resource.Name == "pointdb");
    }

    [Fact]
    public async Task One_configured_connection_string_replaces_only_its_own_database()
    {
        await using var builder = await ModelAsync($"--ConnectionStrings:pointdb={PointDb}");

        Assert.IsType<PostgresServerResource>(Resource(builder, "user-db"));
        Assert.DoesNotContain(builder.Resources, r => r.Name == "point-db");
    }

    [Fact]
    public async Task Observability_off_leaves_out_lgtm_beyla_and_k6()
    {
        await using var builder = await ModelAsync("--Lab19:Observability:Enabled=false");

        Assert.DoesNotContain(builder.Resources, r => r.Name is "lgtm" or "beyla" or "k6");
        Assert.Contains(builder.Resources, r => r.Name == "user-service");
    }

    [Fact]
    public async Task The_MySQL_stand_in_gives_the_connection_string_Aspire_Hosting_MySql_gives()
    {
        await using var builder = await ModelAsync();

        // As the package writes them (src/Aspire.Hosting.MySql, MySqlServerResource and MySqlDatabaseResource): no option of the lab's own,
        // so that replacing MySql/ with the package changes nothing. Point-service sets its own connection options (PointService/Data/).
        var server = Assert.IsType<MySqlServerResource>(Resource(builder, "point-db"));
        Assert.Equal("Server={point-db.bindings.tcp.host};Port={point-db.bindings.tcp.port};User ID=root;Password={point-db-password.value}", server.ConnectionStringExpression.ValueExpression);
        Assert.Equal("{point-db.connectionString};Database=pointdb", Assert.IsType<MySqlDatabaseResource>(Resource(builder, "pointdb")).ConnectionStringExpression.ValueExpression, ignoreCase: true);
        Assert.Equal(new Dictionary<string, string> { ["pointdb"] = "pointdb" }, server.Databases);
        Assert.Equal(["Host", "Port", "Username", "Password", "Uri", "JdbcConnectionString"], ((IResourceWithConnectionString)server).GetConnectionProperties().Select(p => p.Key));
    }
}
