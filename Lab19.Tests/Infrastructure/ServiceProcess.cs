// ServiceProcess: a service started as a deployment starts it (dotnet <Service>.dll, no Aspire), for the runtime agent's tests.
using System.Diagnostics;

namespace Lab19.Tests.Infrastructure;

/// <summary>
/// A service started as a deployment starts it: <c>dotnet &lt;Service&gt;.dll</c> in its build output folder, with only the environment
/// given (no Aspire), on a free loopback port. Stopped with SIGTERM, as a process manager stops it.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _output;

    private ServiceProcess(Process process, int port, List<string> output)
    {
        _process = process;
        _output = output;
        Http = new HttpClient { BaseAddress = new($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Http { get; }
    public string Output { get { lock (_output) return string.Join('\n', _output); } }

    /// <param name="service">UserService or PointService.</param>
    /// <param name="environment">Connection strings, OTEL_* and DOTNET_STARTUP_HOOKS as the test wants them.</param>
    /// <param name="readyPath">What must answer 2xx before the service counts as started: /health, or /alive for one whose database is meant to fail.</param>
    public static async Task<ServiceProcess> StartAsync(string service, IDictionary<string, string> environment, string readyPath = "/health")
    {
        var port = DatabaseServer.FreePort();
        var folder = Repo.BuildOutput(service);
        var psi = new ProcessStartInfo("dotnet", $"{service}.dll") { WorkingDirectory = folder };
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal) || k.StartsWith("DOTNET_STARTUP", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(key); // only what the test gives
        }
        psi.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        foreach (var (key, value) in environment) psi.Environment[key] = value;

        var output = new List<string>();
        var started = new ServiceProcess(Processes.Start(psi, line => { lock (output) output.Add(line); }), port, output);
        await started.WaitHealthyAsync(readyPath, TimeSpan.FromSeconds(90));
        return started;
    }

    private async Task WaitHealthyAsync(string path, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(_process.HasExited, $"the service exited with {(_process.HasExited ? _process.ExitCode : 0)}:\n{Output}");
            try
            {
                using var response = await Http.GetAsync(path);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            Assert.True(deadline.Elapsed < timeout, $"the service was not healthy within {timeout}:\n{Output}");
            await Task.Delay(200);
        }
    }

    /// <summary>The managed assemblies the process has loaded (the runtime maps each file it loads).</summary>
    public IReadOnlyList<string> LoadedAssemblies() =>
        [.. File.ReadLines($"/proc/{_process.Id}/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Last())
            .Where(p => p.EndsWith(".dll", StringComparison.Ordinal)).Select(Path.GetFileName).Distinct()!];

    /// <summary>SIGTERM, then the exit code; a process still running after <paramref name="timeout"/> fails the test.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        await Processes.TerminateAsync(_process);
        var exited = await _process.WaitForExitAsync().WaitAsync(timeout).ContinueWith(t => t.IsCompletedSuccessfully);
        Assert.True(exited, $"still running {timeout} after SIGTERM:\n{Output}");
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
