using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>
/// How the lab runs on each kind of host (Plan/LabPlan.cs), decided from fake hosts: Docker reachable or not, eBPF possible or not,
/// database servers installed or not, and what Lab19:Databases and Lab19:Instrumentation ask for.
/// </summary>
public class LabPlanTests
{
    private const string NoDaemon = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n";

    /// <summary>A Linux host with rootful Docker on its own kernel and eBPF, optionally with the database servers installed.</summary>
    private static FakeHostProbe Host(bool docker = true, bool ebpf = true, bool servers = true)
    {
        var host = new FakeHostProbe();
        if (!docker) host.Docker = new(1, "", NoDaemon);
        if (!ebpf) host.Files.Remove(BeylaPreflight.KprobePmuPath);
        return servers ? host.WithDatabaseServers() : host;
    }

    private static async Task<LabPlan> PlanAsync(FakeHostProbe host, LabSettings? settings = null, bool connectionStrings = false) =>
        LabPlan.Decide(settings ?? new LabSettings(), await HostFacts.ProbeAsync(host, runPreflight: true, TestContext.Current.CancellationToken),
            userDbGiven: connectionStrings, pointDbGiven: connectionStrings);

    [Fact]
    public async Task Linux_with_rootful_Docker_and_eBPF_gets_the_full_lab()
    {
        var plan = await PlanAsync(Host());

        Assert.Null(plan.Refusal);
        Assert.Equal((DatabaseHosting.Container, DatabaseHosting.Container), (plan.UserDb, plan.PointDb));
        Assert.Equal(InstrumentationMode.Ebpf, plan.Instrumentation);
        Assert.True(plan.Observability);
        Assert.True(plan.Beyla);
        Assert.Empty(plan.LeftOut);
    }

    [Fact]
    public async Task Docker_without_eBPF_gets_containers_lgtm_and_the_agent_in_Beylas_place()
    {
        var plan = await PlanAsync(Host(ebpf: false));

        Assert.Equal((DatabaseHosting.Container, DatabaseHosting.Container), (plan.UserDb, plan.PointDb));
        Assert.Equal(InstrumentationMode.Agent, plan.Instrumentation);
        Assert.True(plan.Observability); // the agent reports to lgtm
        Assert.False(plan.Beyla);
        var beyla = Assert.Single(plan.LeftOut);
        Assert.Equal(("beyla", "Runtime agent instead", false), (beyla.Resource, beyla.State, beyla.IsError));
        Assert.Contains(beyla.Lines, l => l.Contains("FAIL  No kprobe support"));
        Assert.Contains(beyla.Lines, l => l.Contains("lgtm (Grafana)"));
        Assert.Contains(beyla.Lines, l => l.Contains(LabPlan.ForceEbpf));
        Assert.Contains(plan.Choices, c => c.StartsWith("instrumentation: the runtime agent in both services instead of Beyla", StringComparison.Ordinal) && c.Contains("kprobe"));
    }

    [Fact]
    public async Task No_Docker_gets_the_hosts_servers_and_the_agent_into_the_Aspire_dashboard()
    {
        var plan = await PlanAsync(Host(docker: false));

        Assert.Null(plan.Refusal);
        Assert.Equal((DatabaseHosting.Local, DatabaseHosting.Local), (plan.UserDb, plan.PointDb));
        Assert.Equal(InstrumentationMode.Agent, plan.Instrumentation);
        Assert.False(plan.Observability);
        Assert.False(plan.Beyla);
        Assert.Equal(["beyla", "lgtm", "k6"], plan.LeftOut.Select(l => l.Resource));
        Assert.All(plan.LeftOut, l => Assert.False(l.IsError));
        Assert.Contains(plan.LeftOut.Single(l => l.Resource == "beyla").Lines, l => l.Contains("this dashboard"));
        Assert.Contains(plan.LeftOut.Single(l => l.Resource == "lgtm").Lines, l => l.Contains("Cannot connect to the Docker daemon"));
        Assert.Contains(plan.Choices, c => c == "telemetry: this dashboard (Traces, Metrics, Structured logs)");
        Assert.Contains(plan.Choices, c => c.StartsWith("userdb: PostgreSQL in /usr/lib/postgresql/15/bin", StringComparison.Ordinal) && c.Contains("no Docker engine answered"));
    }

    [Fact]
    public async Task Neither_Docker_nor_the_servers_is_refused_with_what_is_missing_and_every_way_out()
    {
        var plan = await PlanAsync(Host(docker: false, servers: false));

        var refusal = Assert.IsType<string>(plan.Refusal);
        Assert.StartsWith("Lab19 cannot start: The lab needs a Docker engine, or the PostgreSQL and MariaDB/MySQL server binaries on this host, and found neither.", refusal);
        Assert.Contains("Cannot connect to the Docker daemon", refusal);
        Assert.Contains("no PostgreSQL server found", refusal);
        Assert.Contains("no MariaDB or MySQL server found", refusal);
        Assert.Contains("sudo apt-get install -y postgresql mariadb-server", refusal);
        Assert.Contains("brew install postgresql@17 mariadb", refusal);
        Assert.Contains("--ConnectionStrings:userdb=", refusal);
        Assert.Contains("sudo systemctl start docker", refusal);
    }

    [Fact]
    public async Task Configured_connection_strings_need_neither_Docker_nor_the_servers()
    {
        var plan = await PlanAsync(Host(docker: false, servers: false), connectionStrings: true);

        Assert.Null(plan.Refusal);
        Assert.Equal((DatabaseHosting.Existing, DatabaseHosting.Existing), (plan.UserDb, plan.PointDb));
    }

    [Fact]
    public async Task Containers_asked_for_without_Docker_are_refused_and_local_asked_for_without_servers_too()
    {
        var containers = await PlanAsync(Host(docker: false), new LabSettings { Databases = "containers" });
        Assert.StartsWith("Lab19 cannot start: Lab19:Databases=containers needs a Docker engine.", containers.Refusal);

        var local = await PlanAsync(Host(servers: false), new LabSettings { Databases = "local" });
        Assert.StartsWith("Lab19 cannot start: Lab19:Databases=local needs the PostgreSQL and MariaDB/MySQL server binaries on this host.", local.Refusal);
        Assert.Contains("no PostgreSQL server found", local.Refusal);
        Assert.DoesNotContain("Docker daemon", local.Refusal); // Docker answers: only the servers are missing
    }

    [Fact]
    public async Task Local_databases_asked_for_beside_Docker_and_eBPF_keep_Beyla()
    {
        var plan = await PlanAsync(Host(), new LabSettings { Databases = "LOCAL" });

        Assert.Equal((DatabaseHosting.Local, DatabaseHosting.Local), (plan.UserDb, plan.PointDb));
        Assert.True(plan.Beyla);
        Assert.True(plan.Observability);
    }

    [Fact]
    public async Task Ebpf_asked_for_on_a_host_that_cannot_run_it_leaves_an_error_in_Beylas_place_and_no_agent()
    {
        var plan = await PlanAsync(Host(ebpf: false), new LabSettings { Instrumentation = "ebpf" });

        Assert.Equal(InstrumentationMode.Ebpf, plan.Instrumentation);
        var beyla = Assert.Single(plan.LeftOut);
        Assert.Equal(("beyla", "Host cannot run eBPF", true), (beyla.Resource, beyla.State, beyla.IsError));
        Assert.Contains(beyla.Lines, l => l.Contains("--Lab19:Instrumentation=auto"));
    }

    [Fact]
    public async Task The_agent_asked_for_needs_no_stand_in_and_hybrid_keeps_Beyla_for_point_service()
    {
        var agent = await PlanAsync(Host(), new LabSettings { Instrumentation = "agent" });
        Assert.Equal(InstrumentationMode.Agent, agent.Instrumentation);
        Assert.False(agent.Beyla);
        Assert.Empty(agent.LeftOut);

        var hybrid = await PlanAsync(Host(), new LabSettings { Instrumentation = "hybrid" });
        Assert.Equal(InstrumentationMode.Hybrid, hybrid.Instrumentation);
        Assert.True(hybrid.Beyla);
    }

    [Fact]
    public async Task With_observability_off_the_agent_reports_to_the_dashboard_and_nothing_stands_in()
    {
        var plan = await PlanAsync(Host(), new LabSettings { Observability = new() { Enabled = false } });

        Assert.Equal(InstrumentationMode.Agent, plan.Instrumentation);
        Assert.False(plan.Observability);
        Assert.Empty(plan.LeftOut);
        Assert.Contains(plan.Choices, c => c.Contains("Lab19:Observability:Enabled=false leaves Beyla out"));
    }

    [Fact]
    public async Task Turning_dotnet_propagation_off_is_said_to_change_nothing_where_the_agent_runs()
    {
        var hybrid = await PlanAsync(Host(), new LabSettings { Instrumentation = "hybrid", DotnetTracePropagation = false });
        Assert.Contains(hybrid.Choices, c => c.StartsWith("trace propagation: Lab19:DotnetTracePropagation=false has no effect on user-service", StringComparison.Ordinal));

        var ebpf = await PlanAsync(Host(), new LabSettings { Instrumentation = "ebpf", DotnetTracePropagation = false });
        Assert.DoesNotContain(ebpf.Choices, c => c.StartsWith("trace propagation", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_OTLP_protocol_without_an_OTLP_endpoint_is_said_to_be_ignored()
    {
        static LabSettings Agent(string? endpoint, string instrumentation = "agent") =>
            new() { Instrumentation = instrumentation, Agent = new() { OtlpEndpoint = endpoint, OtlpProtocol = "http/protobuf" } };

        var toLgtm = await PlanAsync(Host(), Agent(endpoint: null));
        Assert.Contains("telemetry: Lab19:Agent:OtlpProtocol=http/protobuf is ignored: it applies only together with Lab19:Agent:OtlpEndpoint, and the runtime agent sends grpc to lgtm", toLgtm.Choices);

        var toDashboard = await PlanAsync(Host(docker: false), Agent(endpoint: null));
        Assert.Contains(toDashboard.Choices, c => c.StartsWith("telemetry: Lab19:Agent:OtlpProtocol=http/protobuf is ignored", StringComparison.Ordinal) && c.EndsWith("this dashboard as Aspire configures it", StringComparison.Ordinal));

        var ebpf = await PlanAsync(Host(), Agent(endpoint: null, instrumentation: "ebpf"));
        Assert.Contains(ebpf.Choices, c => c.StartsWith("telemetry: Lab19:Agent:OtlpProtocol=http/protobuf is ignored", StringComparison.Ordinal) && c.EndsWith("no runtime agent runs", StringComparison.Ordinal));

        var withEndpoint = await PlanAsync(Host(), Agent(endpoint: "http://collector:4318"));
        Assert.DoesNotContain(withEndpoint.Choices, c => c.Contains("OtlpProtocol"));
        Assert.DoesNotContain((await PlanAsync(Host())).Choices, c => c.Contains("OtlpProtocol"));
    }

    [Fact]
    public async Task The_telemetry_line_names_the_agents_OTLP_endpoint_where_the_agent_runs()
    {
        static LabSettings To(string instrumentation, string? protocol = null, bool observability = true) => new()
        {
            Instrumentation = instrumentation,
            Observability = new() { Enabled = observability },
            Agent = new() { OtlpEndpoint = "http://collector:4318", OtlpProtocol = protocol },
        };

        Assert.Contains("telemetry: the runtime agent's to http://collector:4318 (http/protobuf, Lab19:Agent:OtlpEndpoint); lgtm (Grafana on http://localhost:3000) runs but receives none of it",
            (await PlanAsync(Host(), To("agent", "http/protobuf"))).Choices);
        Assert.Contains("telemetry: the runtime agent's to http://collector:4318 (grpc, Lab19:Agent:OtlpEndpoint)",
            (await PlanAsync(Host(), To("agent", observability: false))).Choices);
        Assert.Contains("telemetry: the runtime agent's to http://collector:4318 (grpc, Lab19:Agent:OtlpEndpoint); Beyla's to lgtm (Grafana on http://localhost:3000)",
            (await PlanAsync(Host(), To("hybrid"))).Choices);
        Assert.Contains("telemetry: lgtm (Grafana on http://localhost:3000); Lab19:Agent:OtlpEndpoint is ignored: no runtime agent runs",
            (await PlanAsync(Host(), To("ebpf"))).Choices);
    }

    [Fact]
    public async Task With_the_preflight_off_the_host_is_taken_to_run_everything_and_nothing_is_probed()
    {
        var host = Host(docker: false, ebpf: false);
        var facts = await HostFacts.ProbeAsync(host, runPreflight: false, TestContext.Current.CancellationToken);
        var plan = LabPlan.Decide(new LabSettings(), facts, userDbGiven: false, pointDbGiven: false);

        Assert.Empty(host.Commands);
        Assert.Equal((DatabaseHosting.Container, DatabaseHosting.Container), (plan.UserDb, plan.PointDb));
        Assert.True(plan.Beyla);
    }

    [Fact]
    public async Task PostgreSQL_refuses_root_so_a_root_host_without_a_postgres_account_has_no_local_PostgreSQL()
    {
        var root = new FakeHostProbe { IsRoot = true, Docker = new(1, "", NoDaemon) }.WithDatabaseServers();
        root.Files["/etc/passwd"] = "root:x:0:0:root:/root:/bin/bash\n";
        var plan = await PlanAsync(root);
        Assert.Contains("refuses to run as root, and there is no 'postgres' account", plan.Refusal);

        root.Files["/etc/passwd"] += "postgres:x:101:104:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash\n";
        var search = LocalPostgres.Find(root);
        Assert.Equal(LocalPostgres.SystemAccount, search.Server?.RunAs);
        Assert.Null((await PlanAsync(root)).Refusal);
    }

    [Fact]
    public void The_newest_PostgreSQL_is_chosen_and_Homebrew_and_PATH_are_searched()
    {
        var host = new FakeHostProbe();
        host.Directories["/usr/lib/postgresql"] = ["/usr/lib/postgresql/13", "/usr/lib/postgresql/16"];
        host.Directories["/opt/homebrew/opt"] = ["/opt/homebrew/opt/postgresql@17", "/opt/homebrew/opt/mariadb"];
        foreach (var dir in new[] { "/usr/lib/postgresql/13/bin", "/usr/lib/postgresql/16/bin", "/opt/homebrew/opt/postgresql@17/bin" })
        {
            host.Files[$"{dir}/postgres"] = "";
            host.Files[$"{dir}/initdb"] = "";
        }
        Assert.Equal("/opt/homebrew/opt/postgresql@17/bin", LocalPostgres.Find(host).Server?.BinDirectory);

        var mysql = new FakeHostProbe();
        mysql.Environment["PATH"] = "/opt/tools/bin";
        mysql.Files["/opt/tools/bin/mysqld"] = "";
        var found = LocalMySql.Find(mysql).Server;
        Assert.Equal("/opt/tools/bin/mysqld", found?.ServerFile);
        Assert.False(found?.IsMariaDb);
    }
}
