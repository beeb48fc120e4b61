// Lab19: two uninstrumented .NET services, their databases, and Grafana Beyla turning their HTTP traffic into traces and RED metrics.
using Microsoft.Extensions.Configuration;

// `-- --preflight`: report whether this host can run the eBPF part, start nothing (exit code 1 where it cannot).
if (args.Contains(PreflightResourceBuilderExtensions.Flag)) return await PreflightResourceBuilderExtensions.PrintPreflightAsync(Console.Out);

var builder = DistributedApplication.CreateBuilder(args);

var lab = builder.Configuration.GetSection("Lab19");
var userServicePort = lab.GetValue("UserServicePort", 8080);
var pointServicePort = lab.GetValue("PointServicePort", 8001);

// Databases: containers, or existing servers when ConnectionStrings:userdb / ConnectionStrings:pointdb are configured.
IResourceBuilder<IResourceWithConnectionString> userdb = builder.Configuration.GetConnectionString("userdb") is null
    ? builder.AddPostgres("user-db").WithDataVolume().AddDatabase("userdb")
    : builder.AddConnectionString("userdb");
IResourceBuilder<IResourceWithConnectionString> pointdb = builder.Configuration.GetConnectionString("pointdb") is null
    ? builder.AddMySql("point-db").WithDataVolume().AddDatabase("pointdb")
    : builder.AddConnectionString("pointdb");

var pointService = builder.AddProject<Projects.PointService>("point-service")
    .WithUnproxiedHttpEndpoint(pointServicePort)
    .WithoutTelemetryExport()
    .WithReference(pointdb).WaitFor(pointdb)
    .WithHttpHealthCheck("/health");

var userService = builder.AddProject<Projects.UserService>("user-service")
    .WithUnproxiedHttpEndpoint(userServicePort)
    .WithoutTelemetryExport()
    .WithReference(userdb).WaitFor(userdb)
    .WithReference(pointService).WaitFor(pointService)
    .WithDotnetTracePropagation(lab.GetValue("DotnetTracePropagation", true))
    .WithHttpHealthCheck("/health");

// Observability: the only telemetry in the lab comes from Beyla. Off where containers or eBPF cannot run.
if (lab.GetValue("Observability:Enabled", true))
{
    var lgtm = builder.AddLgtm("lgtm", lab.GetValue("GrafanaPort", 3000))
        .WithDashboards("../grafana");

    builder.AddBeyla("beyla", "../beyla/beyla-config.yml", lab.GetValue("Beyla:Privileged", true))
        .WithServices(userService, pointService)
        .WithTracePrinter(lab.GetValue("Beyla:TracePrinter", "text")!)
        .WithOtlpExporter(lgtm.GetOtlpGrpcEndpoint())
        .WaitFor(lgtm);

    builder.AddK6("k6", "../k6", "load.js")
        .WithTarget("USER_SERVICE_URL", userService)
        .WithTarget("POINT_SERVICE_URL", pointService)
        .WithOtlpMetrics(lgtm.GetOtlpGrpcEndpoint())
        .WaitFor(userService).WaitFor(pointService).WaitFor(lgtm);
}

builder.Build().Run();
return 0;
