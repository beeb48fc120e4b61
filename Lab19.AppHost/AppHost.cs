// Lab19: two uninstrumented .NET services, their databases, and Grafana Beyla turning their HTTP traffic into traces and RED metrics.
using Lab19.AppHost;

// `-- --preflight`: report what this host offers the lab and how a plain run would use it; start nothing (exit code 1 where Beyla cannot run).
if (args.Contains(PreflightCommand.Flag)) return await PreflightCommand.PrintAsync(Console.Out);

var builder = DistributedApplication.CreateBuilder(args);

// The Lab19 settings (LabSettings.cs) and what this host can run (Docker, eBPF, database servers) decide how the lab runs here
// (Plan/LabPlan.cs). Where nothing fits, the AppHost says what is missing and the ways out, and exits with 1.
if (await builder.PlanForThisHostAsync() is not { } plan) return 1;
var lab = plan.Settings;
// Who instruments each service (Instrumentation/): Beyla from the kernel, or the runtime agent in the process (hybrid: the agent in user-service).
var (userServiceBy, pointServiceBy) = plan.Instrumentation.Instrumenters();

// Databases: containers, the servers installed on this host (LocalDatabases/), or existing servers (ConnectionStrings:userdb / :pointdb).
var userdb = plan.UserDb switch
{
    DatabaseHosting.Container => builder.AddPostgres("user-db").WithDataVolume().AddDatabase("userdb"),
    DatabaseHosting.Local => builder.AddLocalPostgres("user-db").AddDatabase("userdb"),
    _ => builder.AddConnectionString("userdb"),
};
// point-service logs in with an account of its own, with rights on its database only (DatabaseAccounts/), never as root.
var pointdb = plan.PointDb switch
{
    DatabaseHosting.Container => builder.AddMySql("point-db").WithDataVolume().AddDatabase("pointdb").AddAccount("point-service-account", "point_service"),
    DatabaseHosting.Local => builder.AddLocalMySql("point-db").AddDatabase("pointdb").AddAccount("point-service-account", "point_service"),
    _ => builder.AddConnectionString("pointdb"),
};

var pointService = builder.AddProject<Projects.PointService>("point-service")
    .WithUnproxiedHttpEndpoint(lab.PointServicePort, reachableFromContainers: plan.Observability)
    .WithInstrumentation(pointServiceBy, lab.Agent)
    .WithReference(pointdb, connectionName: "pointdb").WaitFor(pointdb)
    .WithHttpHealthCheck("/health");

var userService = builder.AddProject<Projects.UserService>("user-service")
    .WithUnproxiedHttpEndpoint(lab.UserServicePort, reachableFromContainers: plan.Observability)
    .WithInstrumentation(userServiceBy, lab.Agent)
    .WithReference(userdb).WaitFor(userdb)
    .WithReference(pointService).WaitFor(pointService)
    .WithDotnetTracePropagation(lab.DotnetTracePropagation)
    .WithHttpHealthCheck("/health");

// Observability: lgtm (Grafana, Tempo, Prometheus, Loki) receives Beyla's and the agent's telemetry; without it the agent reports to the Aspire dashboard.
if (plan.Observability)
{
    var lgtm = builder.AddLgtm("lgtm", lab.GrafanaPort)
        .WithDashboards("../grafana");

    if (plan.Beyla)
    {
        builder.AddBeyla("beyla", "../beyla/beyla-config.yml", lab.Beyla.Privileged)
            .WithServices(userService, pointService)
            .WithTracePrinter(lab.Beyla.TracePrinter)
            .WithOtlpExporter(lgtm.Resource.OtlpGrpcEndpoint)
            .WaitFor(lgtm);
    }

    builder.AddK6("k6", "../k6", "load.js")
        .WithTarget("USER_SERVICE_URL", userService)
        .WithTarget("POINT_SERVICE_URL", pointService)
        .WithOtlpMetrics(lgtm.Resource.OtlpGrpcEndpoint)
        .WaitFor(userService).WaitFor(pointService).WaitFor(lgtm);
}
// What this host cannot run (Beyla without eBPF, lgtm and k6 without Docker) stands in the dashboard with the reason.
builder.AddStandIns(plan);
builder.AddKubernetesManifests(lab.Kubernetes); // publish only: -- --operation publish --step publish-kubernetes --output-path <dir> (Kubernetes/)

return await builder.Build().RunLabAsync();
