// Lab19: two uninstrumented .NET services, their databases, and Grafana Beyla turning their HTTP traffic into traces and RED metrics.
using Microsoft.Extensions.Configuration;

// `-- --preflight`: report whether this host can run the eBPF part, start nothing (exit code 1 where it cannot).
if (args.Contains(PreflightResourceBuilderExtensions.Flag)) return await PreflightResourceBuilderExtensions.PrintPreflightAsync(Console.Out);

var builder = DistributedApplication.CreateBuilder(args);

// The Lab19 settings (ports, switches), their defaults and their checks: LabSettings.cs.
var lab = LabSettings.Read(builder.Configuration);
// Who instruments the services: ebpf (Beyla, the default), agent (the OpenTelemetry startup hook in both, no Beyla) or hybrid (the hook in user-service, Beyla for point-service).
var instrumentation = builder.AddInstrumentation(lab);

// Databases: containers, or existing servers when ConnectionStrings:userdb / ConnectionStrings:pointdb are configured.
var userdb = builder.Configuration.GetConnectionString("userdb") is null
    ? builder.AddPostgres("user-db").WithDataVolume().AddDatabase("userdb")
    : builder.AddConnectionString("userdb");
var pointdb = builder.Configuration.GetConnectionString("pointdb") is null
    ? builder.AddMySql("point-db").WithDataVolume().AddDatabase("pointdb")
    : builder.AddConnectionString("pointdb");

var pointService = builder.AddProject<Projects.PointService>("point-service")
    .WithUnproxiedHttpEndpoint(lab.PointServicePort)
    .WithInstrumentation(instrumentation, agentIn: InstrumentationMode.Agent)
    .WithReference(pointdb).WaitFor(pointdb)
    .WithHttpHealthCheck("/health");

var userService = builder.AddProject<Projects.UserService>("user-service")
    .WithUnproxiedHttpEndpoint(lab.UserServicePort)
    .WithInstrumentation(instrumentation, agentIn: InstrumentationMode.Agent | InstrumentationMode.Hybrid)
    .WithReference(userdb).WaitFor(userdb)
    .WithReference(pointService).WaitFor(pointService)
    .WithDotnetTracePropagation(lab.DotnetTracePropagation)
    .WithHttpHealthCheck("/health");

// Observability: Beyla's telemetry (and the agent's) in lgtm. Off where containers or eBPF cannot run: the agent then reports to the Aspire dashboard.
if (lab.Observability.Enabled)
{
    var lgtm = builder.AddLgtm("lgtm", lab.GrafanaPort)
        .WithDashboards("../grafana");
    instrumentation.SendAgentTelemetryTo(lgtm.GetOtlpGrpcEndpoint());

    if (instrumentation.RunsBeyla)
    {
        // On a host that cannot run eBPF the preflight puts a resource in the dashboard that says why, instead of a failing container.
        builder.AddBeyla("beyla", "../beyla/beyla-config.yml", lab.Beyla.Privileged)
            .WithServices(instrumentation.WatchedByBeyla(userService, pointService))
            .WithTracePrinter(lab.Beyla.TracePrinter)
            .WithOtlpExporter(lgtm.GetOtlpGrpcEndpoint())
            .WaitFor(lgtm)
            .WherePreflightPasses(lab.Preflight.Enabled);
    }

    builder.AddK6("k6", "../k6", "load.js")
        .WithTarget("USER_SERVICE_URL", userService)
        .WithTarget("POINT_SERVICE_URL", pointService)
        .WithOtlpMetrics(lgtm.GetOtlpGrpcEndpoint())
        .WaitFor(userService).WaitFor(pointService).WaitFor(lgtm);
}

builder.Build().Run();
return 0;
