// LabApp: the real AppHost started through Aspire.Hosting.Testing against the private databases, with its services' clients and resource commands.
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lab19.Tests.Infrastructure;

/// <summary>
/// The real AppHost, started through Aspire.Hosting.Testing in existing-database mode with observability off,
/// on ports of its own so that it never collides with a running lab.
/// </summary>
public sealed class LabApp : IAsyncDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private LabApp(DistributedApplication app, int userServicePort, int pointServicePort)
    {
        App = app;
        UserServicePort = userServicePort;
        PointServicePort = pointServicePort;
        Users = new HttpClient { BaseAddress = new($"http://127.0.0.1:{userServicePort}"), Timeout = TimeSpan.FromSeconds(30) };
        Points = new HttpClient { BaseAddress = new($"http://127.0.0.1:{pointServicePort}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    private Task _started = Task.CompletedTask;

    public DistributedApplication App { get; }
    public int UserServicePort { get; }
    public int PointServicePort { get; }
    /// <summary>user-service, at the port Beyla would watch.</summary>
    public HttpClient Users { get; }
    /// <summary>point-service, at the port Beyla would watch.</summary>
    public HttpClient Points { get; }

    /// <param name="userDb">The userdb connection string.</param>
    /// <param name="pointDb">The pointdb connection string.</param>
    /// <param name="configure">A last change to the model before it is built (e.g. pointing user-service at a fake point-service).</param>
    /// <param name="waitUntilHealthy">Wait for both services to be healthy before returning.</param>
    /// <param name="settings">More AppHost settings, as command-line arguments (e.g. "--Lab19:DotnetTracePropagation=false").</param>
    public static async Task<LabApp> StartAsync(string userDb, string pointDb,
        Action<IDistributedApplicationTestingBuilder>? configure = null, bool waitUntilHealthy = true, params string[] settings)
    {
        int userServicePort = DatabaseServer.FreePort(), pointServicePort = DatabaseServer.FreePort();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Lab19_AppHost>(
            [
                // The services as they are (no agent, no Beyla) unless a test asks otherwise, on every host: nothing is probed.
                "--Lab19:Observability:Enabled=false",
                "--Lab19:Preflight:Enabled=false",
                "--Lab19:Instrumentation=ebpf",
                $"--Lab19:UserServicePort={userServicePort}",
                $"--Lab19:PointServicePort={pointServicePort}",
                $"--ConnectionStrings:userdb={userDb}",
                $"--ConnectionStrings:pointdb={pointDb}",
                .. settings,
            ],
            (options, _) => options.DisableDashboard = true);
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        foreach (var service in builder.Resources.OfType<ProjectResource>().ToList())
        {
            // The suite runs many services at once; each watching its appsettings files costs an inotify instance (128 per user by default).
            builder.CreateResourceBuilder(service).WithEnvironment("DOTNET_hostBuilder__reloadConfigOnChange", "false");
        }
        configure?.Invoke(builder);

        var app = await builder.BuildAsync();
        // StartAsync returns once every resource has started, and a resource starts only after what it waits for is healthy.
        var started = app.StartAsync().WaitAsync(StartTimeout);
        var lab = new LabApp(app, userServicePort, pointServicePort) { _started = started };
        if (waitUntilHealthy)
        {
            await started;
            await lab.WaitHealthyAsync("point-service");
            await lab.WaitHealthyAsync("user-service");
        }
        return lab;
    }

    public async Task WaitHealthyAsync(string resource, TimeSpan? timeout = null)
    {
        try
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(resource).WaitAsync(timeout ?? StartTimeout);
        }
        catch (Exception e) when (e is DistributedApplicationException or TimeoutException)
        {
            throw new InvalidOperationException($"{resource} did not become healthy: {e.Message}\n{await DescribeAsync(resource)}", e);
        }
    }

    /// <summary>A resource's state, exit code and last console lines, for a failure message.</summary>
    private async Task<string> DescribeAsync(string resource)
    {
        var snapshot = App.ResourceNotifications.TryGetCurrentState(resource, out var state) ? state.Snapshot : null;
        var lines = new List<string>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            var model = App.Services.GetRequiredService<DistributedApplicationModel>();
            await foreach (var batch in App.Services.GetRequiredService<ResourceLoggerService>()
                .WatchAsync(model.Resources.Single(r => r.Name == resource)).WithCancellation(cts.Token))
            {
                lines.AddRange(batch.Select(l => l.Content));
            }
        }
        catch (OperationCanceledException)
        {
            // the backlog has been read: the watch only ends when cancelled
        }
        return $"state {snapshot?.State?.Text}, exit code {snapshot?.ExitCode}; last console lines:\n  " + string.Join("\n  ", lines.TakeLast(30));
    }

    /// <summary>
    /// The console lines of <paramref name="resource"/> so far, read until <paramref name="done"/> holds for them or 15 s have passed
    /// (the caller's assertions then report what was seen).
    /// </summary>
    public async Task<IReadOnlyList<string>> LogLinesAsync(string resource, Func<IReadOnlyList<string>, bool> done)
    {
        var lines = new List<string>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(15));
        try
        {
            var model = App.Services.GetRequiredService<DistributedApplicationModel>();
            await foreach (var batch in App.Services.GetRequiredService<ResourceLoggerService>()
                .WatchAsync(model.Resources.Single(r => r.Name == resource)).WithCancellation(cts.Token))
            {
                lines.AddRange(batch.Select(l => l.Content));
                if (done(lines)) break;
            }
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            // not done within the time: the caller's assertions report what was seen
        }
        return lines;
    }

    public async Task StopResourceAsync(string resource)
    {
        var result = await App.ResourceCommands.ExecuteCommandAsync(resource, KnownResourceCommands.StopCommand).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(result.Success, $"stopping {resource}: {result.Message}");
        await App.ResourceNotifications.WaitForResourceAsync(resource, KnownResourceStates.TerminalStates).WaitAsync(TimeSpan.FromSeconds(60));
    }

    public async Task StartResourceAsync(string resource)
    {
        var result = await App.ResourceCommands.ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(result.Success, $"starting {resource}: {result.Message}");
        // The command can return before the new run is reported: a health wait that still saw the stopped state would give up at once.
        await App.ResourceNotifications.WaitForResourceAsync(resource, e => e.Snapshot.State?.Text is { } state && !KnownResourceStates.TerminalStates.Contains(state))
            .WaitAsync(TimeSpan.FromSeconds(60));
        await WaitHealthyAsync(resource);
    }

    /// <summary>The pid of a service's own process (DCP starts a project through `dotnet run`, whose pid the resource shows: the service is its child).</summary>
    public int ServiceProcessId(string resource)
    {
        Assert.True(App.ResourceNotifications.TryGetCurrentState(resource, out var state), $"{resource} has no state");
        var launcher = Convert.ToInt32(state.Snapshot.Properties.Single(p => p.Name == "executable.pid").Value);
        return Assert.Single(Processes.ChildrenOf(launcher));
    }

    /// <summary>
    /// Kills <paramref name="resource"/>'s process outright (SIGKILL: no graceful shutdown, requests in flight are cut off), as a crash
    /// would, and waits until the AppHost has seen it end. Linux only (reads /proc).
    /// </summary>
    public async Task KillResourceProcessAsync(string resource)
    {
        // The service's own process: killing `dotnet run`, whose pid the resource shows, would orphan it.
        var pid = ServiceProcessId(resource);
        using (var process = System.Diagnostics.Process.GetProcessById(pid))
        {
            process.Kill();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        await App.ResourceNotifications.WaitForResourceAsync(resource, KnownResourceStates.TerminalStates).WaitAsync(TimeSpan.FromSeconds(60));
    }

    public async ValueTask DisposeAsync()
    {
        Users.Dispose();
        Points.Dispose();
        await _started.ContinueWith(_ => { }); // a start that failed has already failed its test
        await App.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await App.DisposeAsync();
    }
}
