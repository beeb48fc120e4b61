// AppHostProcess: the lab started as its users start it (`dotnet run --project Lab19.AppHost`), read from its console, stopped with Ctrl+C.
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Lab19.Tests.Infrastructure;

/// <summary>
/// The AppHost in a process of its own, as <c>dotnet run --project Lab19.AppHost</c> from the repository root, with the launch profile a user
/// gets and only the dashboard's ports moved to free ones (so that a lab already running on 15019/19019/20019 is neither hit nor in the way).
/// Everything it starts (DCP, the dashboard, the services) is found again by a tag in its environment, which every child inherits.
/// </summary>
internal sealed partial class AppHostProcess : IAsyncDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);
    public static readonly TimeSpan HealthyTimeout = TimeSpan.FromMinutes(2);
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);
    /// <summary>After the AppHost has exited, DCP stops the services and the dashboard, then itself (about 12 s in a quiet lab).</summary>
    public static readonly TimeSpan CleanUpTimeout = TimeSpan.FromSeconds(60);

    private const string TagVariable = "LAB19_TESTS_PROCESS_TAG";
    private const int KeptLines = 200;

    /// <summary>
    /// Prefixes, in any case, of what `dotnet test` adds to the environment of the tests (MSBuild's SDK paths, which would steer the
    /// child's project evaluation, the test platform's, the runtime location it hands its test host), and of what a developer's shell may
    /// hold that changes what the lab does (its settings, ASP.NET Core's, the dashboard's, OpenTelemetry's, Docker's): a new user has none
    /// of it. The user's own SDK settings (DOTNET_ROOT, DOTNET_CLI_*, DOTNET_NOLOGO...) stay.
    /// </summary>
    private static readonly string[] LeakingPrefixes =
    [
        "MSBUILD", "_MSBUILD", "VSTEST_", "TESTINGPLATFORM_", "XUNIT_", "DOTNET_HOST_PATH", "DOTNET_ROOT_",
        "Lab19__", "ConnectionStrings__", "Logging__", "ASPNETCORE_", "DOTNET_ENVIRONMENT", "DOTNET_STARTUP_HOOKS", "DOTNET_DASHBOARD_",
        "DOTNET_RESOURCE_SERVICE_", "ASPIRE_", "DASHBOARD__", "DCP_", "OTEL_", "DOCKER_",
    ];

    private readonly Process _process;
    private readonly string _tag;
    private readonly Queue<string> _output;
    private readonly Task<Uri> _loginUrl;

    private AppHostProcess(Process process, string tag, Queue<string> output, Task<Uri> loginUrl, Uri userService, Uri pointService)
    {
        _process = process;
        _tag = tag;
        _output = output;
        _loginUrl = loginUrl;
        UserService = userService;
        PointService = pointService;
    }

    /// <summary>The login URL the AppHost prints: http://localhost:PORT/login?t=TOKEN.</summary>
    public Uri LoginUrl { get; private set; } = null!;

    /// <summary>The dashboard's browser token: the t parameter of <see cref="LoginUrl"/>.</summary>
    public string LoginToken => LoginUrl.Query.TrimStart('?').Split('&').Single(p => p.StartsWith("t=", StringComparison.Ordinal))[2..];

    public Uri Dashboard => new(LoginUrl.GetLeftPart(UriPartial.Authority));

    public Uri UserService { get; }

    public Uri PointService { get; }

    /// <summary>The last lines the AppHost printed (standard output and error), for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output) return string.Join('\n', _output);
        }
    }

    /// <summary>
    /// Starts <c>dotnet run --project Lab19.AppHost [-- <paramref name="appArguments"/>]</c>, waits for the dashboard's login URL, then until
    /// user-service (at <paramref name="userServicePort"/>) answers its health check. A lab that does not come up fails with its last output.
    /// </summary>
    /// <summary>
    /// The lab as a new user starts it: `dotnet run --project Lab19.AppHost` with no arguments. Only where the services' default ports
    /// (8080, 8001) are taken on this machine (a lab already running, another program) do they move to free ports, said in the test output.
    /// </summary>
    public static Task<AppHostProcess> StartWithDefaultsAsync(string dataHome)
    {
        if (IsFree(LabSettings.DefaultUserServicePort) && IsFree(LabSettings.DefaultPointServicePort))
        {
            return StartAsync([], LabSettings.DefaultUserServicePort, LabSettings.DefaultPointServicePort, dataHome);
        }
        int userServicePort = DatabaseServer.FreePort(), pointServicePort = DatabaseServer.FreePort();
        TestContext.Current.TestOutputHelper?.WriteLine($"Ports {LabSettings.DefaultUserServicePort}/{LabSettings.DefaultPointServicePort} are taken here: the services use {userServicePort}/{pointServicePort}.");
        return StartAsync([$"--Lab19:UserServicePort={userServicePort}", $"--Lab19:PointServicePort={pointServicePort}"], userServicePort, pointServicePort, dataHome);
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Any, port);
            listener.Start();
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    /// <summary>A new, empty data folder for the user the test plays, reachable by the postgres account (the tests may run as root).</summary>
    public static string NewDataHome()
    {
        var home = Directory.CreateTempSubdirectory("lab19-userdata-");
        if (!OperatingSystem.IsWindows()) home.UnixFileMode |= UnixFileMode.OtherExecute;
        return home.FullName;
    }

    /// <param name="dataHome">The user's data folder (XDG_DATA_HOME), where the lab keeps the local database servers' files.</param>
    public static async Task<AppHostProcess> StartAsync(IReadOnlyList<string> appArguments, int userServicePort, int pointServicePort, string dataHome)
    {
        var tag = Guid.NewGuid().ToString("N");
        var output = new Queue<string>();
        var loginUrl = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = Processes.Start(StartInfo(appArguments, tag, dataHome), line =>
        {
            lock (output)
            {
                output.Enqueue(line);
                if (output.Count > KeptLines) output.Dequeue();
            }
            if (LoginLine().Match(line) is { Success: true } login) loginUrl.TrySetResult(new Uri(login.Groups["url"].Value));
        });
        var lab = new AppHostProcess(process, tag, output, loginUrl.Task, new Uri($"http://127.0.0.1:{userServicePort}"), new Uri($"http://127.0.0.1:{pointServicePort}"));
        try
        {
            lab.LoginUrl = await lab.WhileRunningAsync(lab._loginUrl, StartTimeout, "print the dashboard's login URL");
            await lab.WaitUntilHealthyAsync(HealthyTimeout);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The command line and environment. `dotnet run -e` sets the dashboard's three addresses: a variable of the test's own environment
    /// would lose to the launch profile's (launchSettings.json sets them), `-e` wins over it, and the rest of the profile stays as a user has it.
    /// </summary>
    /// <param name="within">A command the lab runs inside (e.g. `unshare` for a host without the database servers), or none.</param>
    /// <param name="resourceServicePort">The port of the AppHost's own resource service (the dashboard's back end), free unless given.</param>
    private static ProcessStartInfo StartInfo(IReadOnlyList<string> appArguments, string tag, string dataHome, IReadOnlyList<string>? within = null, int? resourceServicePort = null)
    {
        // setsid: the AppHost's own process group, as a terminal gives the command it runs, so that Ctrl+C can be sent to the whole group
        // (dotnet run and the AppHost) and to nothing else. env --default-signal=INT: a test run started in the background of a script
        // inherits SIGINT ignored, and the AppHost would never hear the Ctrl+C.
        var psi = new ProcessStartInfo("setsid") { WorkingDirectory = Repo.Root };
        foreach (var arg in within ?? []) psi.ArgumentList.Add(arg);
        // --no-build: the test run has just built the solution (the AppHost with both services and the agent) in its configuration; a second
        // build here would write into the same bin/ and obj/ folders from which other tests of the run are starting services at that moment.
        string[] dotnetRun =
        [
            "env", "--default-signal=INT",
            "dotnet", "run", "--project", "Lab19.AppHost", "--no-build", "--configuration", Repo.Configuration,
            "-e", $"ASPNETCORE_URLS=http://localhost:{DatabaseServer.FreePort()}",
            "-e", $"ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=http://localhost:{DatabaseServer.FreePort()}",
            "-e", $"ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL=http://localhost:{resourceServicePort ?? DatabaseServer.FreePort()}",
        ];
        foreach (var arg in dotnetRun) psi.ArgumentList.Add(arg);
        if (appArguments.Count > 0)
        {
            psi.ArgumentList.Add("--");
            foreach (var arg in appArguments) psi.ArgumentList.Add(arg);
        }

        foreach (var key in psi.Environment.Keys.Where(k => LeakingPrefixes.Any(p => k.StartsWith(p, StringComparison.OrdinalIgnoreCase))).ToList())
        {
            psi.Environment.Remove(key);
        }
        // A host without Docker: nothing of the lab may depend on a container engine being there.
        psi.Environment["DOCKER_HOST"] = "unix:///nonexistent.sock";
        psi.Environment[TagVariable] = tag;
        // The user's data folder: a test's own, so a developer's lab data is never touched (and never found).
        psi.Environment["XDG_DATA_HOME"] = dataHome;
        // and the user secrets the generated passwords go into (UserSecretsOfTests): ASPIRE_ variables were stripped above.
        psi.Environment[UserSecretsOfTests.Variable] = UserSecretsOfTests.Id;
        return psi;
    }

    /// <summary>
    /// Runs the AppHost to its end, for a lab that must stop by itself (a host it cannot run on, or a start that fails), killed with all
    /// it started if it is still running after <paramref name="timeout"/>. Returns how it ended and what it printed.
    /// </summary>
    public static async Task<ProcessResult> RunToEndAsync(IReadOnlyList<string> appArguments, string dataHome, TimeSpan timeout,
        IReadOnlyList<string>? within = null, int? resourceServicePort = null)
    {
        var psi = StartInfo(appArguments, Guid.NewGuid().ToString("N"), dataHome, within, resourceServicePort);
        return await Processes.ExecAsync(psi.FileName, [.. psi.ArgumentList], Repo.Root, timeout, TestContext.Current.CancellationToken, psi.Environment);
    }

    /// <summary>
    /// A crash: SIGKILL to the AppHost alone (not to dotnet run, not to what it started). Fails unless everything the lab started (DCP,
    /// the dashboard, the services, the database servers) ends by itself within <see cref="CleanUpTimeout"/>.
    /// </summary>
    public async Task CrashAsync()
    {
        var appHost = Tagged().Single(pid => CommandLineOf(pid).Split(' ')[0].EndsWith("/Lab19.AppHost", StringComparison.Ordinal));
        using (var process = Process.GetProcessById(appHost))
        {
            process.Kill();
        }
        var clock = Stopwatch.StartNew();
        while (Tagged() is { Count: > 0 } left)
        {
            if (clock.Elapsed > CleanUpTimeout)
            {
                var running = Describe(left);
                await KillAllAsync();
                Assert.Fail($"{CleanUpTimeout} after the AppHost was killed these of its processes were still running (now killed): {running}");
            }
            await Task.Delay(250);
        }
    }

    [GeneratedRegex(@"Login to the dashboard at (?<url>https?://\S+/login\?t=\S+)")]
    private static partial Regex LoginLine();

    /// <summary>Awaits <paramref name="task"/>, failing with the last output if the process exits first or <paramref name="timeout"/> passes.</summary>
    private async Task<T> WhileRunningAsync<T>(Task<T> task, TimeSpan timeout, string what)
    {
        var exited = _process.WaitForExitAsync();
        var finished = await Task.WhenAny(task, exited, Task.Delay(timeout));
        if (finished == task) return await task;
        var why = finished == exited ? $"exited with {_process.ExitCode}" : $"was still running after {timeout}";
        throw new InvalidOperationException($"The AppHost did not {what}: it {why}. Its last output:\n{Output}");
    }

    private async Task WaitUntilHealthyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = UserService, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        var last = "no answer";
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The AppHost exited with {_process.ExitCode} before user-service was healthy. Its last output:\n{Output}");
            }
            try
            {
                using var response = await http.GetAsync("/health");
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                if (response.IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message; // not listening yet, or not answering within 5 s
            }
            if (deadline.Elapsed > timeout)
            {
                throw new InvalidOperationException(
                    $"user-service ({UserService}health) was not healthy within {timeout} (last: {last}). The AppHost's last output:\n{Output}");
            }
            await Task.Delay(500);
        }
    }

    /// <summary>
    /// Ctrl+C, as a user stops the lab in a terminal: SIGINT to the process group of dotnet run and the AppHost. Fails if dotnet run is
    /// still running <see cref="StopTimeout"/> later, or if anything of the lab is still running <see cref="CleanUpTimeout"/> after it
    /// exited (all of it is then killed). Returns dotnet run's exit code (the AppHost's), when it exited and when the lab's last process ended.
    /// </summary>
    public async Task<(int ExitCode, TimeSpan Exited, TimeSpan AllGone)> StopAsync()
    {
        // setsid made the process the leader of its own group (pgid = pid): the signal can reach no process of the test run's group.
        Assert.Equal(_process.Id, ProcessGroupOf(_process.Id));
        var clock = Stopwatch.StartNew();
        await Processes.RunAsync("kill", "-INT", "--", $"-{_process.Id}");

        var exited = await _process.WaitForExitAsync().WaitAsync(StopTimeout).ContinueWith(t => t.IsCompletedSuccessfully);
        if (!exited)
        {
            var running = Describe(Tagged());
            await KillAllAsync();
            Assert.Fail($"dotnet run (the AppHost) was still running {StopTimeout} after Ctrl+C (killed, with: {running}). Its last output:\n{Output}");
        }
        var exitedAfter = clock.Elapsed;

        while (Tagged() is { Count: > 0 } left)
        {
            if (clock.Elapsed - exitedAfter > CleanUpTimeout)
            {
                var running = Describe(left);
                await KillAllAsync();
                Assert.Fail($"{CleanUpTimeout} after the AppHost exited these of its processes were still running (now killed): {running}");
            }
            await Task.Delay(250);
        }
        return (_process.ExitCode, exitedAfter, clock.Elapsed);
    }

    /// <summary>Whatever of the lab is still running (a test that failed before <see cref="StopAsync"/>) is killed.</summary>
    public async ValueTask DisposeAsync()
    {
        await KillAllAsync();
        _process.Dispose();
    }

    /// <summary>SIGKILL to every process of this lab: DCP runs in a session of its own, so only the tag finds all of them.</summary>
    private async Task KillAllAsync()
    {
        for (var round = 0; Tagged() is { Count: > 0 } left; round++)
        {
            // DCP restarts nothing once the AppHost is gone, but a process may start a child while the list is read: a few rounds.
            Assert.True(round < 10, $"processes of the lab survive SIGKILL: {Describe(left)}");
            foreach (var pid in left)
            {
                try
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill();
                }
                catch (ArgumentException)
                {
                    // it ended after the list was read
                }
            }
            await Task.Delay(200);
        }
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>The processes started with this lab's tag in their environment (Linux: /proc/PID/environ, as it was at their start).</summary>
    private List<int> Tagged()
    {
        var marker = Encoding.UTF8.GetBytes($"{TagVariable}={_tag}\0");
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                if (File.ReadAllBytes(Path.Combine(dir, "environ")).AsSpan().IndexOf(marker) >= 0) pids.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // it ended while the list was read, or it is another user's process (never one of the lab's)
            }
        }
        return pids;
    }

    private static string Describe(IEnumerable<int> pids) =>
        string.Join("; ", pids.Select(pid => $"{pid} {CommandLineOf(pid)}"));

    private static string CommandLineOf(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (IOException)
        {
            return "(ended)";
        }
    }

    /// <summary>The process group of <paramref name="pid"/>: /proc/PID/stat is "pid (comm) state ppid pgrp ...", comm may hold spaces.</summary>
    private static int ProcessGroupOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[2]);
    }
}

/// <summary>
/// Tests that start the lab as a new user does, on the services' default ports (8080, 8001): one at a time, or two of them would meet
/// on the same ports.
/// </summary>
[CollectionDefinition(Name)]
public sealed class DefaultPortsCollection
{
    public const string Name = "the lab on its default ports";
}
