namespace Lab19.AppHost;

/// <summary>
/// Grafana Beyla: eBPF auto-instrumentation of the uninstrumented services, found by the ports they listen on.
/// Every Beyla behaviour relied on here is listed with its upstream source in docs/beyla-facts.md.
/// </summary>
internal static class BeylaResourceBuilderExtensions
{
    public const string ConfigTarget = "/config/beyla-config.yml";

    /// <summary>
    /// Beyla's documented least-privilege set on kernels 5.11 and newer (docs/sources/security.md): NET_ADMIN for context propagation,
    /// NET_RAW and PERFMON also for the network flow metrics' socket filter (vendor/go.opentelemetry.io/obi/pkg/obi/os.go).
    /// </summary>
    public static readonly string[] Capabilities = ["BPF", "PERFMON", "DAC_READ_SEARCH", "CHECKPOINT_RESTORE", "SYS_PTRACE", "NET_RAW", "SYS_ADMIN", "NET_ADMIN"];

    /// <summary>
    /// The set used when Lab19:Beyla:Privileged is false: <see cref="Capabilities"/>, plus SYS_RESOURCE on kernels before 5.11 ("Increase
    /// the amount of locked memory available, kernels &lt; 5.11 only", grafana/beyla v3.33.0 docs/sources/security.md l.62). There eBPF
    /// memory is charged to RLIMIT_MEMLOCK, which cilium/ebpf's rlimit.RemoveMemlock lifts ("Requires CAP_SYS_RESOURCE on kernels &lt; 5.11");
    /// when it fails Beyla stops its application tracer (vendor/go.opentelemetry.io/obi/pkg/appolly/discover/attacher.go, init), and
    /// Beyla's own capability check does not warn, as SYS_ADMIN is granted. An unknown kernel gets it too.
    /// </summary>
    public static string[] CapabilitiesFor(Version? kernel) =>
        kernel is null || kernel < new Version(5, 11) ? [.. Capabilities, "SYS_RESOURCE"] : Capabilities;

    /// <summary>
    /// Host paths Beyla's documentation asks a containerised Beyla to see: the cgroup hierarchy (context propagation attaches there),
    /// the tracing file system (without it Beyla switches header propagation off on kernels that need its FIONREAD mitigation)
    /// and securityfs, read-only, so that Beyla detects the kernel's lockdown mode.
    /// </summary>
    public static readonly (string Path, bool ReadOnly)[] HostMounts = [("/sys/fs/cgroup", false), ("/sys/kernel/tracing", false), ("/sys/kernel/security", true)];

    /// <summary>The variable that tells Beyla which ports to instrument: the only discovery rule in the lab (beyla-config.yml has none).</summary>
    public const string OpenPortVariable = "BEYLA_OPEN_PORT";

    /// <param name="configFile">The Beyla YAML, relative to the AppHost directory.</param>
    /// <param name="privileged">--privileged, or only <see cref="CapabilitiesFor"/> the kernel the preflight reads.</param>
    public static IResourceBuilder<HostNetworkContainerResource> AddBeyla(this IDistributedApplicationBuilder builder, string name, string configFile, bool privileged)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(configFile);

        // --pid=host lets Beyla see the services' processes; the host network namespace (AddHostNetworkContainer) lets it see the
        // host's interfaces, for network flow metrics (traffic between different addresses: its socket filter drops the rest) and
        // network-level context propagation.
        string[] runtimeArgs = privileged
            ? ["--privileged", "--pid=host"]
            : ["--pid=host", "--security-opt=apparmor=unconfined"];

        var beyla = builder.AddHostNetworkContainer(name, BeylaContainerImageTags.Image, BeylaContainerImageTags.Tag)
            .WithImageRegistry(BeylaContainerImageTags.Registry)
            .WithContainerRuntimeArgs(runtimeArgs)
            .WithCapabilities(privileged ? [] : CapabilitiesFor(builder.ExecutionContext.IsPublishMode
                ? null // published for a cluster, whose nodes' kernels this machine cannot see: the set for any kernel
                : BeylaPreflight.ParseKernel(HostProbes.Current.ReadText(BeylaPreflight.OsReleasePath))))
            .WithBindMount(Path.GetFullPath(configFile, builder.AppHostDirectory), ConfigTarget, isReadOnly: true)
            .WithEnvironment("BEYLA_CONFIG_PATH", ConfigTarget)
            // Beyla's default, stated on purpose for hybrid mode: a selected process seen sending OTLP traces (metrics) gets no Beyla traces
            // (RED metrics) from then on. The lab does not rely on it: in hybrid mode the agent's service is not among the watched services.
            .WithEnvironment("BEYLA_EXCLUDE_OTEL_INSTRUMENTED_SERVICES", "true");
        foreach (var (path, readOnly) in HostMounts)
        {
            beyla.WithBindMount(path, path, readOnly);
        }
        return beyla;
    }

    /// <summary>
    /// Instruments those of <paramref name="services"/> that are marked <see cref="Instrumenter.Beyla"/> (WithInstrumentation): the ports
    /// of their "http" endpoints, read from the resources themselves when Beyla starts. They must be unproxied
    /// (WithUnproxiedHttpEndpoint), or the port would belong to DCP's proxy. On Kubernetes the same services are selected by their
    /// Deployments instead (Kubernetes/).
    /// </summary>
    public static IResourceBuilder<HostNetworkContainerResource> WithServices(this IResourceBuilder<HostNetworkContainerResource> beyla, params IResourceBuilder<ProjectResource>[] services)
    {
        ArgumentNullException.ThrowIfNull(beyla);
        return beyla.WithAnnotation(new WatchedServicesAnnotation([.. services.Select(s => s.Resource)]))
            .WithEnvironment(context => context.EnvironmentVariables[OpenPortVariable] = string.Join(',', beyla.Resource.WatchedServices().Select(ListeningPort)));
    }

    /// <summary>The services Beyla instruments: those given to <see cref="WithServices"/> that are marked <see cref="Instrumenter.Beyla"/>.</summary>
    public static IEnumerable<ProjectResource> WatchedServices(this IResource beyla) =>
        beyla.Annotations.OfType<WatchedServicesAnnotation>().SelectMany(a => a.Services).Where(s => s.InstrumentedBy() == Instrumenter.Beyla);

    private static int ListeningPort(ProjectResource service)
    {
        var http = service.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == "http");
        return http.TargetPort ?? throw new InvalidOperationException($"{service.Name} has no fixed port for Beyla to watch: give it WithUnproxiedHttpEndpoint.");
    }

    /// <summary>
    /// Sends traces and metrics to an OTLP gRPC endpoint, as the host reaches it (Beyla shares the host's network). beyla-config.yml sets
    /// no endpoint, so this is the one place it is set. Plain variables on purpose: WithOtlpExporter would also set OTEL_SERVICE_NAME,
    /// which Beyla takes as the name of every service it instruments.
    /// </summary>
    public static IResourceBuilder<HostNetworkContainerResource> WithOtlpExporter(this IResourceBuilder<HostNetworkContainerResource> beyla, EndpointReference otlpGrpc) =>
        beyla
            .WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", otlpGrpc)
            .WithEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");

    /// <summary>The values Beyla accepts for BEYLA_TRACE_PRINTER (docs/beyla-facts.md).</summary>
    public static readonly string[] TracePrinters = ["disabled", "text", "json", "json_indent", "counter"];

    /// <summary>BEYLA_TRACE_PRINTER: "text" prints every captured span to Beyla's console log, "disabled" does not.</summary>
    public static IResourceBuilder<HostNetworkContainerResource> WithTracePrinter(this IResourceBuilder<HostNetworkContainerResource> beyla, string printer) =>
        beyla.WithEnvironment("BEYLA_TRACE_PRINTER", printer);
}

/// <summary>The services given to Beyla (<see cref="BeylaResourceBuilderExtensions.WithServices"/>), whether or not Beyla instruments each.</summary>
internal sealed record WatchedServicesAnnotation(IReadOnlyList<ProjectResource> Services) : IResourceAnnotation;

/// <summary>The image Beyla runs: the newest release tag in grafana/beyla's history when the lab was last checked (see docs/beyla-facts.md).</summary>
internal static class BeylaContainerImageTags
{
    public const string Registry = "docker.io";
    public const string Image = "grafana/beyla";
    public const string Tag = "3.33.0";
}
