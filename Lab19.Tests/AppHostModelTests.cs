using Lab19.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lab19.Tests;

/// <summary>The AppHost's resource graph, built without starting anything (so no container is needed).</summary>
public class AppHostModelTests
{
    private const string UserDb = "Host=127.0.0.1;Port=5432;Username=lab;Database=userdb";
    private const string PointDb = "Server=127.0.0.1;Port=3306;User ID=lab;Database=pointdb";

    /// <summary>The model with the preflight off, so Beyla's wiring is the same on every host (PreflightTests cover the preflight).</summary>
    internal static Task<IDistributedApplicationTestingBuilder> ModelAsync(params string[] args) =>
        DistributedApplicationTestingBuilder.CreateAsync<Projects.Lab19_AppHost>(["--Lab19:Preflight:Enabled=false", .. args], (options, _) => options.DisableDashboard = true, TestContext.Current.CancellationToken);

    internal static IResource Resource(IDistributedApplicationTestingBuilder builder, string name) =>
        Assert.Single(builder.Resources, r => r.Name == name);

    private static string ImageOf(IResource resource)
    {
        if (resource is HostNetworkContainerResource hostNetwork) return hostNetwork.Image;
        var image = Assert.Single(resource.Annotations.OfType<ContainerImageAnnotation>());
        return $"{image.Registry}/{image.Image}:{image.Tag}";
    }

    internal static Task<Dictionary<string, string>> PublishEnvironmentAsync(IResource resource) =>
        EnvironmentAsync(resource, new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish));

    internal static async Task<Dictionary<string, string>> EnvironmentAsync(IResource resource, DistributedApplicationExecutionContext context)
    {
        var configuration = await ExecutionConfigurationBuilder.Create(resource)
            .WithEnvironmentVariablesConfig()
            .BuildAsync(context, NullLogger.Instance, TestContext.Current.CancellationToken);
        Assert.Null(configuration.Exception);
        return configuration.EnvironmentVariables.ToDictionary(e => e.Key, e => e.Value);
    }

    /// <summary>The resources' environment as a run would give it, every endpoint allocated on localhost (nothing is started).</summary>
    internal static async Task<Dictionary<string, Dictionary<string, string>>> RunEnvironmentsAsync(IDistributedApplicationTestingBuilder builder, params string[] names)
    {
        foreach (var endpoint in builder.Resources.SelectMany(r => r.Annotations.OfType<EndpointAnnotation>()))
        {
            endpoint.AllocatedEndpoint = new AllocatedEndpoint(endpoint, "localhost", endpoint.Port ?? endpoint.TargetPort!.Value);
        }
        await using var services = builder.Services.BuildServiceProvider();
        var context = new DistributedApplicationExecutionContext(new DistributedApplicationExecutionContextOptions(DistributedApplicationOperation.Run) { Services = services });
        var environments = new Dictionary<string, Dictionary<string, string>>();
        foreach (var name in names)
        {
            environments[name] = await EnvironmentAsync(Resource(builder, name), context);
        }
        return environments;
    }

    private static async Task<List<string>> RuntimeArgsAsync(IResource resource)
    {
        var args = new List<object>();
        foreach (var annotation in resource.Annotations.OfType<ContainerRuntimeArgsCallbackAnnotation>())
        {
            await annotation.Callback(new ContainerRuntimeArgsCallbackContext(args, TestContext.Current.CancellationToken));
        }
        return args.Select(a => a.ToString()!).ToList();
    }

    [Fact]
    public async Task Every_resource_exists_with_its_pinned_image()
    {
        await using var builder = await ModelAsync();

        Assert.Equal(
            ["beyla", "k6", "lgtm", "point-db", "point-service", "pointdb", "user-db", "user-service", "userdb"],
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
             "point-service -> point-db", "point-service -> pointdb",
             "user-service -> point-service", "user-service -> user-db", "user-service -> userdb"],
            edges);

        // every wait of a service is also a reference (connection string or service discovery)
        var userServiceEnv = await PublishEnvironmentAsync(Resource(builder, "user-service"));
        Assert.Contains("ConnectionStrings__userdb", userServiceEnv.Keys);
        Assert.Contains("services__point-service__http__0", userServiceEnv.Keys);
        Assert.Contains("ConnectionStrings__pointdb", (await PublishEnvironmentAsync(Resource(builder, "point-service"))).Keys);
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

    [Theory]
    [InlineData(new string[0], LabSettings.DefaultUserServicePort, LabSettings.DefaultPointServicePort)]
    [InlineData(new[] { "--Lab19:UserServicePort=18080", "--Lab19:PointServicePort=18001" }, 18080, 18001)]
    public async Task The_services_listen_unproxied_on_the_configured_ports_and_Beyla_watches_the_same(string[] args, int userPort, int pointPort)
    {
        await using var builder = await ModelAsync(args);

        foreach (var (name, port) in new[] { ("user-service", userPort), ("point-service", pointPort) })
        {
            var http = Assert.Single(Resource(builder, name).Annotations.OfType<EndpointAnnotation>(), e => e.Name == "http");
            Assert.False(http.IsProxied, $"{name} is behind DCP's proxy: Beyla would find the proxy, not the service");
            Assert.Equal((port, port), (http.Port, http.TargetPort));
        }
        Assert.Equal($"{userPort},{pointPort}", (await PublishEnvironmentAsync(Resource(builder, "beyla")))["BEYLA_OPEN_PORT"]);
    }

    [Fact]
    public async Task Beyla_is_privileged_with_host_pid_its_config_mounted_read_only_and_exports_to_lgtm()
    {
        await using var builder = await ModelAsync();
        var beyla = Resource(builder, "beyla");

        var args = await RuntimeArgsAsync(beyla);
        Assert.Contains("--privileged", args);
        Assert.Contains("--pid=host", args);
        Assert.IsType<HostNetworkContainerResource>(beyla); // --network=host: see BeylaHostNetworkTests

        var config = Assert.Single(beyla.Annotations.OfType<ContainerMountAnnotation>(), m => m.Target == "/config/beyla-config.yml");
        Assert.True(config.IsReadOnly);
        Assert.Equal(Repo.PathOf("beyla", "beyla-config.yml"), config.Source);
        Assert.True(File.Exists(config.Source));
        // What Beyla's docs ask a container to see: cgroups and tracefs (context propagation), securityfs read-only (lockdown mode).
        var mounts = beyla.Annotations.OfType<ContainerMountAnnotation>().Where(m => m.Type == ContainerMountType.BindMount).ToDictionary(m => m.Target, m => (m.Source, m.IsReadOnly));
        Assert.Equal(("/sys/fs/cgroup", false), mounts["/sys/fs/cgroup"]);
        Assert.Equal(("/sys/kernel/tracing", false), mounts["/sys/kernel/tracing"]);
        Assert.Equal(("/sys/kernel/security", true), mounts["/sys/kernel/security"]);

        var env = await PublishEnvironmentAsync(beyla);
        Assert.Equal("/config/beyla-config.yml", env["BEYLA_CONFIG_PATH"]);
        Assert.Equal("{lgtm.bindings.otlp-grpc.url}", env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.Equal("grpc", env["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        Assert.DoesNotContain("OTEL_SERVICE_NAME", env.Keys);
        Assert.DoesNotContain("BEYLA_SERVICE_NAME", env.Keys);
    }

    [Fact]
    public async Task Beyla_runs_with_the_least_privilege_capabilities_when_privileged_is_off()
    {
        await using var builder = await ModelAsync("--Lab19:Beyla:Privileged=false");

        var args = await RuntimeArgsAsync(Resource(builder, "beyla"));
        Assert.DoesNotContain("--privileged", args);
        Assert.Contains("--pid=host", args);
        foreach (var capability in new[] { "DAC_READ_SEARCH", "SYS_PTRACE", "NET_RAW", "SYS_ADMIN", "NET_ADMIN" })
        {
            Assert.Contains($"--cap-add={capability}", args);
        }
        // Docker Engine before 23 rejects these three; SYS_ADMIN (granted above) covers them there.
        var engine = await HostNetworkContainerResourceBuilderExtensions.EngineMajorVersionAsync();
        foreach (var capability in new[] { "BPF", "PERFMON", "CHECKPOINT_RESTORE" })
        {
            Assert.Equal(engine is not < 23, args.Contains($"--cap-add={capability}"));
        }
    }

    [Fact]
    public async Task The_services_get_a_service_name_for_Beyla_and_no_telemetry_exporter()
    {
        // The dashboard's OTLP address makes Aspire add exporter variables to every project; the lab must take them off again.
        await using var builder = await ModelAsync("--ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=http://localhost:18889",
            $"--ConnectionStrings:userdb={UserDb}", $"--ConnectionStrings:pointdb={PointDb}");

        foreach (var (name, env) in await RunEnvironmentsAsync(builder, "user-service", "point-service"))
        {
            Assert.Equal(name, env["OTEL_SERVICE_NAME"]);
            Assert.Contains("OTEL_RESOURCE_ATTRIBUTES", env.Keys); // proof that Aspire's OTLP settings were applied at all
            Assert.DoesNotContain(env.Keys, k => k.StartsWith("OTEL_EXPORTER_OTLP_", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Lgtm_shows_grafana_and_the_lab_dashboard_and_mounts_the_provisioning_read_only()
    {
        await using var builder = await ModelAsync();
        var lgtm = Resource(builder, "lgtm");

        var endpoints = lgtm.Annotations.OfType<EndpointAnnotation>().ToDictionary(e => e.Name, e => e.TargetPort);
        Assert.Equal(3000, endpoints["grafana"]);
        Assert.Equal(4317, endpoints["otlp-grpc"]);
        Assert.Equal(4318, endpoints["otlp-http"]);
        Assert.Contains(lgtm.Annotations.OfType<HealthCheckAnnotation>(), h => h.Key.Contains("lgtm"));

        var mounts = lgtm.Annotations.OfType<ContainerMountAnnotation>().ToList();
        Assert.All(mounts, m => Assert.True(m.IsReadOnly));
        Assert.Contains(mounts, m => m.Target == "/otel-lgtm/grafana/conf/provisioning/dashboards/custom.yaml" && File.Exists(m.Source));
        Assert.Contains(mounts, m => m.Target == "/otel-lgtm/grafana/conf/provisioning/dashboards/custom" && File.Exists(Path.Combine(m.Source!, "lab19-beyla-red.json")));

        var grafana = lgtm.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == "grafana");
        grafana.AllocatedEndpoint = new AllocatedEndpoint(grafana, "localhost", 3000);
        var urls = new List<ResourceUrlAnnotation> { new() { Url = "http://localhost:3000", Endpoint = new EndpointReference((IResourceWithEndpoints)lgtm, "grafana") } };
        var context = new ResourceUrlsCallbackContext(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Run), lgtm, urls, TestContext.Current.CancellationToken);
        foreach (var callback in lgtm.Annotations.OfType<ResourceUrlsCallbackAnnotation>())
        {
            await callback.Callback(context);
        }
        Assert.Contains(urls, u => u.DisplayText == "Grafana" && u.Url == "http://localhost:3000");
        Assert.Contains(urls, u => u.DisplayText == "Lab19 · Beyla RED metrics" && u.Url == "http://localhost:3000/d/lab19-beyla-red");
    }

    [Fact]
    public async Task K6_starts_only_on_request_runs_the_mounted_script_and_reports_to_lgtm()
    {
        await using var builder = await ModelAsync();
        var k6 = Resource(builder, "k6");

        Assert.Single(k6.Annotations.OfType<ExplicitStartupAnnotation>());
        var script = Assert.Single(k6.Annotations.OfType<ContainerMountAnnotation>());
        Assert.True(script.IsReadOnly);
        Assert.Equal(Repo.PathOf("k6"), script.Source);
        Assert.True(File.Exists(Path.Combine(script.Source!, "load.js")));

        var configuration = await ExecutionConfigurationBuilder.Create(k6).WithArgumentsConfig()
            .BuildAsync(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish), NullLogger.Instance, TestContext.Current.CancellationToken);
        Assert.Equal(["run", "--out", "opentelemetry", "/scripts/load.js"], configuration.Arguments.Select(a => a.Value?.ToString()));
        var env = await PublishEnvironmentAsync(k6);
        Assert.Equal("{user-service.bindings.http.url}", env["USER_SERVICE_URL"]);
        Assert.Equal("{point-service.bindings.http.url}", env["POINT_SERVICE_URL"]);
        Assert.Contains("lgtm", env["K6_OTEL_GRPC_EXPORTER_ENDPOINT"]);
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

    [Theory]
    [InlineData(new string[0], null)]
    [InlineData(new[] { "--Lab19:DotnetTracePropagation=false" }, "false")]
    public async Task Dotnet_trace_propagation_is_left_on_unless_the_lab_switches_it_off(string[] args, string? expected)
    {
        await using var builder = await ModelAsync(args);

        var env = await PublishEnvironmentAsync(Resource(builder, "user-service"));
        Assert.Equal(expected, env.GetValueOrDefault(ServiceResourceBuilderExtensions.DisableActivityPropagationVariable));
    }

    [Fact]
    public async Task Point_service_talks_to_its_MySQL_container_in_plaintext_so_Beyla_can_read_the_SQL()
    {
        await using var builder = await ModelAsync();

        // The expressions as the service receives them, with placeholders for the container's address and the generated password.
        var server = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = Assert.IsType<MySqlServerResource>(Resource(builder, "point-db")).ConnectionStringExpression.ValueExpression };
        Assert.Equal("None", server["SslMode"]);
        Assert.Equal("True", server["AllowPublicKeyRetrieval"]);
        Assert.Equal("{point-db.connectionString};Database=pointdb", Assert.IsType<MySqlDatabaseResource>(Resource(builder, "pointdb")).ConnectionStringExpression.ValueExpression, ignoreCase: true);
    }
}
