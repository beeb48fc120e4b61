namespace Aspire.Hosting;

/// <summary>Grafana Beyla: eBPF auto-instrumentation of the uninstrumented services, found by the ports they listen on.</summary>
public static class BeylaResourceBuilderExtensions
{
    public const string Image = "grafana/beyla";
    public const string Tag = "3.35.0";
    public const string ConfigTarget = "/config/beyla-config.yml";

    /// <summary>Beyla's documented least-privilege set, used when Lab19:Beyla:Privileged is false (NET_ADMIN for context propagation).</summary>
    public static readonly string[] Capabilities = ["BPF", "PERFMON", "DAC_READ_SEARCH", "CHECKPOINT_RESTORE", "SYS_PTRACE", "NET_RAW", "SYS_ADMIN", "NET_ADMIN"];

    /// <param name="configFile">The Beyla YAML, relative to the AppHost directory.</param>
    /// <param name="openPorts">The ports the services listen on (one source of truth: the AppHost's configuration).</param>
    /// <param name="privileged">--privileged, or only <see cref="Capabilities"/>.</param>
    public static IResourceBuilder<ContainerResource> AddBeyla(this IDistributedApplicationBuilder builder, string name, string configFile, int[] openPorts, bool privileged)
    {
        // --pid=host lets Beyla see the services' processes; host networking is not possible under DCP and not needed for HTTP tracing.
        string[] runtimeArgs = privileged
            ? ["--privileged", "--pid=host"]
            : ["--pid=host", .. Capabilities.Select(c => $"--cap-add={c}"), "--security-opt=apparmor=unconfined"];

        return builder.AddContainer(name, Image, Tag)
            .WithImageRegistry("docker.io")
            .WithContainerRuntimeArgs(runtimeArgs)
            .WithBindMount(Path.GetFullPath(configFile, builder.AppHostDirectory), ConfigTarget, isReadOnly: true)
            // Header-based context propagation attaches to the host's cgroup hierarchy.
            .WithBindMount("/sys/fs/cgroup", "/sys/fs/cgroup")
            .WithEnvironment("BEYLA_CONFIG_PATH", ConfigTarget)
            .WithEnvironment("BEYLA_OPEN_PORT", string.Join(',', openPorts))
            // Beyla's default, stated on purpose for hybrid mode: a selected process seen sending OTLP traces (metrics) gets no Beyla traces
            // (RED metrics) from then on. The lab does not rely on it: in hybrid mode the agent's service is not among openPorts at all.
            .WithEnvironment("BEYLA_EXCLUDE_OTEL_INSTRUMENTED_SERVICES", "true");
    }

    /// <summary>
    /// Sends traces and metrics to an OTLP gRPC endpoint. Plain variables on purpose: WithOtlpExporter would also set
    /// OTEL_SERVICE_NAME, which Beyla takes as the name of every service it instruments.
    /// </summary>
    public static IResourceBuilder<ContainerResource> WithOtlpExporter(this IResourceBuilder<ContainerResource> beyla, EndpointReference otlpGrpc) =>
        beyla
            .WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", otlpGrpc)
            .WithEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");

    /// <summary>BEYLA_TRACE_PRINTER: "text" prints every captured span to Beyla's console log, "disabled" does not.</summary>
    public static IResourceBuilder<ContainerResource> WithTracePrinter(this IResourceBuilder<ContainerResource> beyla, string printer) =>
        beyla.WithEnvironment("BEYLA_TRACE_PRINTER", printer);
}
