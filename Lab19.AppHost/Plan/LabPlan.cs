namespace Lab19.AppHost;

/// <summary>Where a database runs.</summary>
internal enum DatabaseHosting
{
    /// <summary>The server of a configured connection string (ConnectionStrings:userdb / :pointdb).</summary>
    Existing,

    /// <summary>A container (PostgreSQL's and MySQL's images).</summary>
    Container,

    /// <summary>The server binaries installed on the host, run by the AppHost (LocalDatabases/).</summary>
    Local,
}

/// <summary>A resource the host cannot run, replaced in the dashboard by one that says why (<see cref="StandInResource"/>).</summary>
/// <param name="State">The short state the dashboard shows.</param>
/// <param name="IsError">Whether the state is an error (a setting asked for something this host cannot do) or a choice the lab made.</param>
/// <param name="Lines">Why, and what to do: the resource's console and details.</param>
internal sealed record LeftOut(string Resource, string State, bool IsError, IReadOnlyList<string> Lines);

/// <summary>What the host offers the lab: the preflight (null when it did not run) and the database servers installed on it.</summary>
internal sealed record HostFacts(PreflightReport? Preflight, LocalServerSearch<LocalPostgres> Postgres, LocalServerSearch<LocalMySql> MySql)
{
    /// <summary>The label the test suite's stand-ins for the database images carry (Lab19.Tests/StandInImages/), and the one saying what each runs.</summary>
    public const string StandInLabel = "lab19.stand-in", StandInServerLabel = "lab19.stand-in.server";

    /// <summary>
    /// Images in the local Docker engine that are the test suite's stand-ins, by reference (e.g. mysql:8.4), with what each runs: where
    /// no registry was reachable, the container-mode test leaves them under the official images' references, and a later run would use them.
    /// </summary>
    public IReadOnlyDictionary<string, string> StandIns { get; init; } = new Dictionary<string, string>();

    public static async Task<HostFacts> ProbeAsync(IHostProbe probe, bool runPreflight, CancellationToken cancellationToken = default)
    {
        var preflight = runPreflight ? await BeylaPreflight.RunAsync(probe, cancellationToken) : null;
        return new(preflight, LocalPostgres.Find(probe), LocalMySql.Find(probe))
        {
            StandIns = preflight?.DockerReachable == true ? await StandInsAsync(probe, cancellationToken) : new Dictionary<string, string>(),
        };
    }

    /// <summary>A warning for each container of <paramref name="resources"/> whose image is one of <see cref="StandIns"/>.</summary>
    public IEnumerable<string> StandInWarnings(IEnumerable<IResource> resources)
    {
        foreach (var resource in resources)
        {
            if (resource.TryGetContainerImageName(out var image) && StandIns.TryGetValue(Short(image), out var runs))
            {
                yield return $"{resource.Name}: the image {Short(image)} in the local Docker engine is a stand-in the test suite built ({runs}), not the official image. " +
                    $"To run the official one, remove the stand-ins: docker images --quiet --filter label={StandInLabel} | xargs -r docker rmi -f";
            }
        }
    }

    private static async Task<Dictionary<string, string>> StandInsAsync(IHostProbe probe, CancellationToken cancellationToken)
    {
        var list = await probe.RunAsync("docker", ["images", "--filter", $"label={StandInLabel}", "--format", "{{.Repository}}:{{.Tag}}"], BeylaPreflight.DockerTimeout, cancellationToken);
        var references = list.ExitCode == 0
            ? list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(r => !r.Contains("<none>", StringComparison.Ordinal)).ToList()
            : [];
        var standIns = new Dictionary<string, string>();
        foreach (var reference in references)
        {
            var inspect = await probe.RunAsync("docker", ["image", "inspect", "--format", $"{{{{index .Config.Labels \"{StandInServerLabel}\"}}}}", reference], BeylaPreflight.DockerTimeout, cancellationToken);
            standIns[Short(reference)] = inspect.ExitCode == 0 && inspect.StandardOutput.Trim() is { Length: > 0 } runs ? runs : "not the official server";
        }
        return standIns;
    }

    /// <summary>An image reference as the Docker CLI lists it: docker.io/library/mysql:8.4 is mysql:8.4.</summary>
    private static string Short(string reference)
    {
        var name = reference.StartsWith("docker.io/", StringComparison.Ordinal) ? reference["docker.io/".Length..] : reference;
        return name.StartsWith("library/", StringComparison.Ordinal) ? name["library/".Length..] : name;
    }

    /// <summary>Nothing asked of the host (publish mode): no preflight, so containers are assumed, and no database server searched.</summary>
    public static HostFacts NotProbed { get; } = new(null, new(null, NotSearched), new(null, NotSearched));

    private const string NotSearched = "not searched in publish mode: a published lab runs its databases in containers or uses ConnectionStrings:userdb and :pointdb";
}

/// <summary>
/// How the lab runs on this host: the most it allows. Databases in containers where a Docker engine answers, else on the servers
/// installed on the host; Beyla where the host can run eBPF, else the runtime agent; lgtm and k6 where containers run. Settings that
/// name a mode (Lab19:Databases, Lab19:Instrumentation) are followed; where nothing fits, <see cref="Refusal"/> says what is missing.
/// </summary>
internal sealed record LabPlan
{
    /// <summary>The Lab19 settings the plan followed.</summary>
    public required LabSettings Settings { get; init; }

    public required DatabaseHosting UserDb { get; init; }
    public required DatabaseHosting PointDb { get; init; }

    /// <summary>Lab19:Instrumentation with auto resolved.</summary>
    public required InstrumentationMode Instrumentation { get; init; }

    /// <summary>lgtm and k6 run (observability on, and containers can run).</summary>
    public required bool Observability { get; init; }

    /// <summary>Beyla runs (its mode, observability, and a host that passed the preflight).</summary>
    public required bool Beyla { get; init; }

    /// <summary>What the dashboard shows in place of what cannot run here.</summary>
    public required IReadOnlyList<LeftOut> LeftOut { get; init; }

    /// <summary>What was chosen and why, one line each, for the AppHost's console.</summary>
    public required IReadOnlyList<string> Choices { get; init; }

    /// <summary>Why the lab cannot run here at all, and the ways out; null when it can.</summary>
    public string? Refusal { get; init; }

    public const string InstallServers =
        "install the two servers (no server needs to be running): `sudo apt-get install -y postgresql mariadb-server` on Debian/Ubuntu, " +
        "`brew install postgresql@17 mariadb` on macOS";

    public const string GiveConnectionStrings =
        "use servers you already have: --ConnectionStrings:userdb=\"Host=...;Username=...;Password=...;Database=userdb\" " +
        "--ConnectionStrings:pointdb=\"Server=...;User ID=...;Password=...;Database=pointdb\"";

    public const string ForceEbpf = "--Lab19:Instrumentation=ebpf --Lab19:Preflight:Enabled=false";

    /// <param name="userDbGiven">ConnectionStrings:userdb is configured.</param>
    /// <param name="pointDbGiven">ConnectionStrings:pointdb is configured.</param>
    public static LabPlan Decide(LabSettings lab, HostFacts host, bool userDbGiven, bool pointDbGiven)
    {
        var report = host.Preflight; // null: the checks are off, and a host that runs everything is assumed
        var docker = report?.DockerReachable ?? true;
        var ebpf = report?.CanRunBeyla ?? true;
        var dockerWhy = report?.Checks.FirstOrDefault(c => c.Name == BeylaPreflight.Docker)?.Detail ?? "";
        var databases = lab.Databases.Trim().ToLowerInvariant();
        var choices = new List<string>();
        var missing = new List<string>();

        DatabaseHosting Place<T>(string database, bool given, LocalServerSearch<T> local) where T : LocalServer
        {
            if (given)
            {
                choices.Add($"{database}: the server of ConnectionStrings:{database}");
                return DatabaseHosting.Existing;
            }
            if (databases == "containers" || (databases == "auto" && docker))
            {
                if (!docker) missing.Add(dockerWhy);
                choices.Add($"{database}: a container{(databases != "auto" ? "" : report is null ? " (the host was not checked)" : " (a Docker engine answers)")}");
                return DatabaseHosting.Container;
            }
            if (local.Server is null)
            {
                if (databases == "auto") missing.Add(dockerWhy);
                missing.Add(local.Detail);
            }
            choices.Add($"{database}: {local.Detail}{(databases == "auto" ? $", because no Docker engine answered ({dockerWhy})" : "")}");
            return DatabaseHosting.Local;
        }

        var userDb = Place("userdb", userDbGiven, host.Postgres);
        var pointDb = Place("pointdb", pointDbGiven, host.MySql);
        var refusal = missing.Count == 0 ? null : RefusalText(databases, missing.Distinct().ToList());

        var observability = lab.Observability.Enabled && docker;
        var auto = LabSettings.IsAuto(lab.Instrumentation);
        var mode = auto ? (observability && ebpf ? InstrumentationMode.Ebpf : InstrumentationMode.Agent) : InstrumentationModes.Parse(lab.Instrumentation)!.Value;
        var beyla = mode != InstrumentationMode.Agent && observability && ebpf;
        var failures = report?.Failures.Select(f => f.Line).ToList() ?? [];
        var leftOut = new List<LeftOut>();

        if (auto && mode == InstrumentationMode.Agent)
        {
            var why = !lab.Observability.Enabled ? "Lab19:Observability:Enabled=false leaves Beyla out"
                : !docker ? $"Beyla runs in a container, and no Docker engine answered ({dockerWhy})"
                : $"this host cannot run Beyla's eBPF programs ({string.Join("; ", report!.Failures.Select(f => f.Detail))})";
            choices.Add($"instrumentation: the runtime agent in both services instead of Beyla, because {why}; to force Beyla: {ForceEbpf}");
            if (lab.Observability.Enabled)
            {
                leftOut.Add(new("beyla", "Runtime agent instead", IsError: false,
                [
                    $"The runtime agent (an OpenTelemetry startup hook) instruments both services instead of Beyla, because {why}.",
                    .. failures,
                    $"Its traces, metrics and logs go to {(observability ? "lgtm (Grafana)" : "this dashboard (Traces, Metrics, Structured logs)")}.",
                    $"To force Beyla anyway: {ForceEbpf} (it then starts, and fails where the host cannot run it).",
                ]));
            }
        }
        else
        {
            choices.Add($"instrumentation: {mode switch
            {
                InstrumentationMode.Ebpf => "Beyla (eBPF), outside the services",
                InstrumentationMode.Agent => "the runtime agent in both services",
                _ => "the runtime agent in user-service, Beyla for point-service",
            }}{(!auto ? $" (Lab19:Instrumentation={lab.Instrumentation})" : report is null ? " (the host was not checked)" : " (the host passed the preflight)")}" +
                (mode != InstrumentationMode.Agent && !lab.Observability.Enabled ? "; Beyla is left out while Lab19:Observability:Enabled=false" : ""));
            if (mode != InstrumentationMode.Agent && lab.Observability.Enabled && !beyla)
            {
                leftOut.Add(new("beyla", docker ? "Host cannot run eBPF" : "Docker not reachable", IsError: true,
                [
                    .. failures,
                    report!.Summary,
                    "Run with --Lab19:Instrumentation=auto (the default) to have the runtime agent instrument the services instead.",
                ]));
            }
        }

        if (!lab.DotnetTracePropagation && mode != InstrumentationMode.Ebpf)
        {
            // Lab19.Agent's startup hook switches HttpClient's propagation on in the services it runs in: the agent owns propagation there.
            choices.Add($"trace propagation: Lab19:DotnetTracePropagation=false has no effect on {(mode == InstrumentationMode.Agent ? "the services" : "user-service")}, where the runtime agent writes the traceparent itself");
        }

        if (lab.Agent.OtlpProtocol is { } protocol && lab.Agent.OtlpEndpoint is null)
        {
            // The protocol is how the agent reaches that endpoint; lgtm and the dashboard each come with their own.
            var instead = mode == InstrumentationMode.Ebpf ? "no runtime agent runs"
                : observability ? "the runtime agent sends grpc to lgtm" : "the runtime agent sends to this dashboard as Aspire configures it";
            choices.Add($"telemetry: Lab19:Agent:OtlpProtocol={protocol} is ignored: it applies only together with Lab19:Agent:OtlpEndpoint, and {instead}");
        }

        if (lab.Observability.Enabled && !docker)
        {
            var agentNote = mode == InstrumentationMode.Ebpf ? "" : " The runtime agent's telemetry is in this dashboard instead: Traces, Metrics, Structured logs.";
            leftOut.Add(new("lgtm", "Docker not reachable", IsError: false,
                [$"lgtm (Grafana, Tempo, Prometheus, Loki) runs in a container, and no Docker engine answered ({dockerWhy}).{agentNote} Start Docker and run the lab again for Grafana."]));
            leftOut.Add(new("k6", "Docker not reachable", IsError: false,
                [$"k6 runs in a container, and no Docker engine answered ({dockerWhy}). Send requests yourself, e.g. curl http://localhost:{lab.UserServicePort}/api/v1/users/1"]));
        }
        var grafana = $"lgtm (Grafana on http://localhost:{lab.GrafanaPort})";
        var telemetry = observability ? grafana : mode == InstrumentationMode.Ebpf ? "none (observability is off)" : "this dashboard (Traces, Metrics, Structured logs)";
        if (lab.Agent.OtlpEndpoint is { } endpoint)
        {
            // The agent sends to the endpoint instead of lgtm or the dashboard (Instrumentation/InstrumentationBuilderExtensions.cs); Beyla still sends to lgtm.
            var agentTo = $"the runtime agent's to {endpoint} ({lab.Agent.EndpointProtocol()}, Lab19:Agent:OtlpEndpoint)";
            telemetry = mode switch
            {
                InstrumentationMode.Ebpf => $"{telemetry}; Lab19:Agent:OtlpEndpoint is ignored: no runtime agent runs",
                InstrumentationMode.Hybrid when observability => $"{agentTo}; Beyla's to {grafana}",
                _ when observability => $"{agentTo}; {grafana} runs but receives none of it",
                _ => agentTo,
            };
        }
        choices.Add($"telemetry: {telemetry}");

        return new LabPlan
        {
            Settings = lab,
            UserDb = userDb,
            PointDb = pointDb,
            Instrumentation = mode,
            Observability = observability,
            Beyla = beyla,
            LeftOut = leftOut,
            Choices = choices,
            Refusal = refusal,
        };
    }

    private static string RefusalText(string databases, IReadOnlyList<string> missing)
    {
        var need = databases switch
        {
            "containers" => "Lab19:Databases=containers needs a Docker engine",
            "local" => "Lab19:Databases=local needs the PostgreSQL and MariaDB/MySQL server binaries on this host",
            _ => "The lab needs a Docker engine, or the PostgreSQL and MariaDB/MySQL server binaries on this host, and found neither",
        };
        List<string> ways = databases switch
        {
            "containers" => ["start Docker (e.g. `sudo systemctl start docker`) and check `docker info`", "or run with --Lab19:Databases=auto to use the servers installed on this host", $"or {GiveConnectionStrings}"],
            "local" => [InstallServers, "or run with --Lab19:Databases=auto to use containers where Docker runs", $"or {GiveConnectionStrings}"],
            _ => ["start Docker (e.g. `sudo systemctl start docker`) and check `docker info`", $"or {InstallServers}", $"or {GiveConnectionStrings}"],
        };
        return string.Join(Environment.NewLine,
        [
            $"Lab19 cannot start: {need}.",
            .. missing.Select(m => $"  - {m}"),
            "Ways out:",
            .. ways.Select(w => $"  - {w}"),
        ]);
    }
}
