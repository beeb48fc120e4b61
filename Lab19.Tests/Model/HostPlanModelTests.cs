using Lab19.Tests.Infrastructure;
using static Lab19.Tests.Infrastructure.AppModel;

namespace Lab19.Tests;

/// <summary>
/// The real AppHost's graph (built, not started) on fake hosts: for each Lab19:Databases mode, with Docker reachable or not and the
/// preflight passing or failing, which resources it puts in the graph and what they are.
/// </summary>
public class HostPlanModelTests
{
    public enum Host { DockerAndEbpf, DockerWithoutEbpf, NoDocker }

    private static async Task<IDistributedApplicationTestingBuilder> ModelOnAsync(Host kind, params string[] args)
    {
        var host = new FakeHostProbe().WithDatabaseServers();
        if (kind == Host.DockerWithoutEbpf) host.Files.Remove(BeylaPreflight.KprobePmuPath);
        if (kind == Host.NoDocker) host.Docker = new(1, "", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock.\n");
        // The AppHost asks HostProbes.Current, which flows into the entry point the testing builder runs.
        using (HostProbes.Use(host))
        {
            return await DistributedApplicationTestingBuilder.CreateAsync<Projects.Lab19_AppHost>(
                ["--ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=http://localhost:18889", .. args], (options, _) => options.DisableDashboard = true, TestContext.Current.CancellationToken);
        }
    }

    private static string KindOf(IResource resource) => resource switch
    {
        PostgresServerResource or MySqlServerResource => "container",
        LocalPostgresServerResource => "local postgres",
        LocalMySqlServerResource => "local mysql",
        HostNetworkContainerResource => "beyla container",
        StandInResource stand => $"stand-in: {stand.Why.State}",
        ContainerResource => "container",
        _ => resource.GetType().Name,
    };

    [Theory]
    [InlineData("auto", Host.DockerAndEbpf, "container", "container", "beyla container", "container", "container")]
    [InlineData("auto", Host.DockerWithoutEbpf, "container", "container", "stand-in: Runtime agent instead", "container", "container")]
    [InlineData("auto", Host.NoDocker, "local postgres", "local mysql", "stand-in: Runtime agent instead", "stand-in: Docker not reachable", "stand-in: Docker not reachable")]
    [InlineData("containers", Host.DockerAndEbpf, "container", "container", "beyla container", "container", "container")]
    [InlineData("containers", Host.DockerWithoutEbpf, "container", "container", "stand-in: Runtime agent instead", "container", "container")]
    [InlineData("local", Host.DockerAndEbpf, "local postgres", "local mysql", "beyla container", "container", "container")]
    [InlineData("local", Host.DockerWithoutEbpf, "local postgres", "local mysql", "stand-in: Runtime agent instead", "container", "container")]
    [InlineData("local", Host.NoDocker, "local postgres", "local mysql", "stand-in: Runtime agent instead", "stand-in: Docker not reachable", "stand-in: Docker not reachable")]
    public async Task Each_mode_on_each_host_puts_these_resources_in_the_graph(string databases, Host host, string userDb, string pointDb, string beyla, string lgtm, string k6)
    {
        await using var builder = await ModelOnAsync(host, $"--Lab19:Databases={databases}");

        Assert.Equal([userDb, pointDb, beyla, lgtm, k6], new[] { "user-db", "point-db", "beyla", "lgtm", "k6" }.Select(name => KindOf(Resource(builder, name))));
        Assert.Equal(["userdb", "pointdb"], builder.Resources.Where(r => r is IResourceWithParent && r.Name is "userdb" or "pointdb").Select(r => r.Name));

        // Whatever runs the databases, the services wait for them and get their connection strings.
        var edges = builder.Resources.SelectMany(r => r.Annotations.OfType<WaitAnnotation>().Select(w => $"{r.Name} -> {w.Resource.Name}")).ToList();
        Assert.Contains("user-service -> userdb", edges);
        Assert.Contains("user-service -> user-db", edges);
        Assert.Contains("point-service -> pointdb", edges);
        Assert.Contains("point-service -> point-db", edges);
        Assert.DoesNotContain(edges, e => e.EndsWith("-> beyla", StringComparison.Ordinal) && beyla.StartsWith("stand-in", StringComparison.Ordinal));
        foreach (var name in new[] { "user-db", "userdb", "point-db", "pointdb" })
        {
            Assert.NotEmpty(Resource(builder, name).Annotations.OfType<HealthCheckAnnotation>());
        }

        // The agent is in the services exactly where Beyla is not.
        var environments = await RunEnvironmentsAsync(builder, "user-service", "point-service");
        Assert.All(environments.Values, env => Assert.Equal(beyla != "beyla container", env.ContainsKey("DOTNET_STARTUP_HOOKS")));
    }

    [Fact]
    public async Task Local_databases_have_generated_passwords_their_own_data_directories_and_the_containers_connection_string_shape()
    {
        await using var builder = await ModelOnAsync(Host.NoDocker);

        var userDb = Assert.IsType<LocalPostgresServerResource>(Resource(builder, "user-db"));
        var pointDb = Assert.IsType<LocalMySqlServerResource>(Resource(builder, "point-db"));
        Assert.Equal("user-db-password", userDb.PasswordParameter.Name);
        Assert.Equal("point-db-password", pointDb.PasswordParameter.Name);
        Assert.True(userDb.PasswordParameter.Secret);
        Assert.Equal(LocalServer.DefaultDataRoot(Repo.PathOf("Lab19.AppHost")), Path.GetDirectoryName(userDb.DataDirectory));
        Assert.Equal("user-db", Path.GetFileName(userDb.DataDirectory));
        Assert.Equal("point-db", Path.GetFileName(pointDb.DataDirectory));
        Assert.DoesNotContain(Repo.Root, userDb.DataDirectory); // never inside the repository

        Assert.Equal("Host={user-db.bindings.tcp.host};Port={user-db.bindings.tcp.port};Username=postgres;Password={user-db-password.value}", userDb.ConnectionStringExpression.ValueExpression);
        Assert.Equal("Server={point-db.bindings.tcp.host};Port={point-db.bindings.tcp.port};User ID=root;Password={point-db-password.value}", pointDb.ConnectionStringExpression.ValueExpression);
        Assert.Equal("{user-db.connectionString};Database=userdb", Assert.IsType<LocalDatabaseResource>(Resource(builder, "userdb")).ConnectionStringExpression.ValueExpression);
    }

    [Fact]
    public async Task Without_Docker_the_agent_reports_to_the_Aspire_dashboard()
    {
        await using var builder = await ModelOnAsync(Host.NoDocker);

        foreach (var env in (await RunEnvironmentsAsync(builder, "user-service", "point-service")).Values)
        {
            Assert.Equal(RuntimeAgent.Path, env["DOTNET_STARTUP_HOOKS"]);
            Assert.Equal("http://localhost:18889", env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        }
    }

    [Fact]
    public async Task A_database_image_that_is_the_test_suites_stand_in_is_named_in_a_warning()
    {
        const string mariaDb = "MariaDB 10.11 from Debian's mariadb-server-core, in place of MySQL";
        static FakeHostProbe EngineListing(string images) => new()
        {
            DockerCommand = (args, _) => Task.FromResult<CommandResult>(args[0] switch
            {
                "info" => new(0, FakeHostProbe.DockerInfo(), ""),
                "images" => new(0, images, ""),
                _ => new(0, args[^1] == "mysql:8.4" ? mariaDb + "\n" : "\n", ""),
            }),
        };
        await using var builder = await ModelAsync(); // databases in containers

        var withStandIns = EngineListing("mysql:8.4\nlab19/stand-in:mysql\n");
        var facts = await HostFacts.ProbeAsync(withStandIns, runPreflight: true, TestContext.Current.CancellationToken);
        Assert.Equal(mariaDb, facts.StandIns["mysql:8.4"]);
        var warning = Assert.Single(facts.StandInWarnings(builder.Resources));
        Assert.Equal($"point-db: the image mysql:8.4 in the local Docker engine is a stand-in the test suite built ({mariaDb}), not the official image. " +
            "To run the official one, remove the stand-ins: docker images --quiet --filter label=lab19.stand-in | xargs -r docker rmi -f", warning);

        var clean = EngineListing("");
        Assert.Empty((await HostFacts.ProbeAsync(clean, runPreflight: true, TestContext.Current.CancellationToken)).StandInWarnings(builder.Resources));
        Assert.Equal(["docker info --format {{json .}}", "docker images --filter label=lab19.stand-in --format {{.Repository}}:{{.Tag}}"], clean.Commands);
    }
}
