using System.Runtime.Loader;

/// <summary>
/// Lab19's runtime agent, loaded by <c>DOTNET_STARTUP_HOOKS=&lt;folder&gt;/Lab19.Agent.dll</c> before the service's Main runs.
/// It only prepares the process: its own dependencies, trace propagation, and the hosting startup that adds the OpenTelemetry SDK
/// (<see cref="Lab19.Agent.AgentHostingStartup"/>). Without the variable, nothing of it is loaded.
/// </summary>
// No namespace: the runtime calls Initialize() on the type named exactly "StartupHook" in each DOTNET_STARTUP_HOOKS assembly.
internal static class StartupHook
{
    public const string HostingStartupVariable = "ASPNETCORE_HOSTINGSTARTUPASSEMBLIES";
    public const string PropagationSwitch = "System.Net.Http.EnableActivityPropagation";
    public const string TraceContextSwitch = "Lab19.TraceContext.Disabled";

    public static void Initialize()
    {
        // OpenTelemetry's assemblies are in no deps.json of the service: when the service's own load context cannot find an
        // assembly, look for it beside the agent. Everything the service or the shared framework has is found first, as usual.
        var folder = Path.GetDirectoryName(typeof(StartupHook).Assembly.Location)!;
        AssemblyLoadContext.Default.Resolving += (context, name) =>
            Path.Combine(folder, $"{name.Name}.dll") is var path && File.Exists(path) ? context.LoadFromAssemblyPath(path) : null;

        // HttpClient reads this switch once, at its first request. Set here, before Main, it makes HttpClient write the traceparent
        // of its own span whatever the service's runtimeconfig.json says: while the agent is loaded, it owns trace propagation.
        AppContext.SetSwitch(PropagationSwitch, true);
        // ...and sampling: the services' own "a new trace is sampled" listener would override OTEL_TRACES_SAMPLER (Lab19.ServiceDefaults/TraceContext.cs).
        AppContext.SetSwitch(TraceContextSwitch, true);

        // ASP.NET Core runs the IHostingStartup of every assembly named in this variable while it builds the host:
        // that is where the SDK joins the service's dependency injection, logging and shutdown.
        var agent = typeof(StartupHook).Assembly.GetName().Name!;
        var startups = Environment.GetEnvironmentVariable(HostingStartupVariable);
        if (startups?.Split(';', StringSplitOptions.TrimEntries).Contains(agent) != true)
        {
            Environment.SetEnvironmentVariable(HostingStartupVariable, string.IsNullOrEmpty(startups) ? agent : $"{startups};{agent}");
        }
    }
}
